"""The Snapshot: every fact about one execution and what it touches, gathered once, checked many times.

Plain dataclasses so checks are pure functions of data: they run offline from a saved bundle and are
tested by building a Snapshot. Each top-level fact declares the read-only IAM actions that gather it
(field metadata ``actions``); `drsdoctor permissions` and `drsdoctor checks` are derived from that.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from drsdoctor.jsoncodec import decode, encode
from drsdoctor.planfacts import PlanExecutionSummary, RecoveryPlanRun
from drsdoctor.topology.model import Topology

BUNDLE_SCHEMA = "drsdoctor.bundle/1"

FUNCTION_KINDS = ("orchestration", "finder", "poller", "other")
ROLE_KINDS = ("orchestration", "finder", "poller", "statemachine")


def gathered_by(*actions: str, optional: dict[str, str] | None = None) -> dict[str, Any]:
    """Field metadata of a top-level fact: the read-only IAM actions the collector needs to fill it, and
    the `optional` ones it uses when allowed and does without when denied (action -> what it adds)."""
    extra = dict(optional or {})
    return {"actions": (*actions, *extra), "optional": extra}


# ---- Step Functions -------------------------------------------------------------------------------

@dataclass
class Execution:
    arn: str
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED | PENDING_REDRIVE
    state_machine_arn: str = ""
    name: str = ""
    start_date: datetime | None = None
    stop_date: datetime | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass
class HistoryEvent:
    """One event of GetExecutionHistory; ``details`` is the event's ``*EventDetails`` dict as returned."""

    id: int
    type: str
    timestamp: datetime
    previous_event_id: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def state_name(self) -> str | None:
        name = self.details.get("name")
        return name if isinstance(name, str) and self.type.endswith(("StateEntered", "StateExited")) else None


@dataclass
class History:
    """Events newest first, as fetched (reverseOrder); ``complete`` is False when paging stopped early."""

    events: list[HistoryEvent] = field(default_factory=list)
    complete: bool = True
    total_events: int | None = None  # when known (the newest event id is the count)

    def oldest_first(self) -> list[HistoryEvent]:
        return sorted(self.events, key=lambda event: event.id)

    @property
    def event_count(self) -> int:
        if self.total_events is not None:
            return self.total_events
        return max((event.id for event in self.events), default=0)


@dataclass
class StateMachine:
    arn: str
    name: str = ""
    type: str = "STANDARD"
    definition: str = ""
    role_arn: str = ""
    status: str = "ACTIVE"


# ---- Lambda ---------------------------------------------------------------------------------------

@dataclass
class Function:
    name: str
    arn: str = ""
    kind: str = "other"  # orchestration | finder | poller | other
    role_arn: str = ""
    runtime: str = ""
    handler: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    state: str = "Active"
    state_reason: str | None = None
    last_update_status: str = "Successful"
    last_update_reason: str | None = None
    reserved_concurrency: int | None = None
    policy: str | None = None  # the resource-based policy document (JSON text) from GetPolicy
    last_invocation: datetime | None = None  # newest log event of the function
    recent_errors: list[str] = field(default_factory=list)  # error lines from its recent logs
    error_times: list[datetime] = field(default_factory=list)  # when each of those lines was logged


# ---- DynamoDB -------------------------------------------------------------------------------------

@dataclass
class TableIndex:
    name: str
    keys: dict[str, str] = field(default_factory=dict)  # attribute -> HASH | RANGE
    status: str = "ACTIVE"


@dataclass
class Table:
    name: str
    exists: bool = True
    status: str = "ACTIVE"
    keys: dict[str, str] = field(default_factory=dict)  # attribute -> HASH | RANGE
    indexes: list[TableIndex] = field(default_factory=list)
    arn: str = ""

    def index(self, name: str) -> TableIndex | None:
        return next((index for index in self.indexes if index.name == name), None)


@dataclass
class WaveRecord:
    number: int
    status: str
    name: str = ""
    job_id: str | None = None
    server_ids: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class ExecutionRecord:
    """The execution's item in the execution-history table, as the orchestrator wrote it."""

    table: str
    key: dict[str, str] = field(default_factory=dict)
    status: str = ""
    waves: list[WaveRecord] = field(default_factory=list)
    updated_at: datetime | None = None
    poll_interval_seconds: int | None = None
    item: dict[str, Any] = field(default_factory=dict)  # the raw item, plain JSON values
    key_source: str = ""  # what the key holds: execution-arn | execution-name | input:<field>
    status_attribute: str = ""  # the item's status attribute as written (status, Status, state...)

    @property
    def exists(self) -> bool:
        """False when the table was read and holds no item for the execution."""
        return bool(self.item or self.status or self.waves)

    def current_wave(self) -> WaveRecord | None:
        # the orchestrator's own pointer, whatever its case (currentWave, CurrentWave, current_wave)
        index = next((value for key, value in self.item.items()
                      if key.lower().replace("_", "") in ("currentwave", "currentwaveindex")), None)
        if isinstance(index, int) and 0 <= index < len(self.waves):  # the orchestrator's own pointer
            return self.waves[index]
        open_waves = [wave for wave in self.waves if wave.status not in ("COMPLETED", "LAUNCHED")]
        return open_waves[0] if open_waves else (self.waves[-1] if self.waves else None)


# ---- EventBridge ----------------------------------------------------------------------------------

@dataclass
class RuleTarget:
    id: str
    arn: str
    role_arn: str | None = None
    input: str | None = None


@dataclass
class Rule:
    name: str
    arn: str = ""
    state: str = "ENABLED"
    schedule_expression: str | None = None
    event_pattern: str | None = None
    event_bus: str = "default"
    targets: list[RuleTarget] = field(default_factory=list)


# ---- DRS ------------------------------------------------------------------------------------------

@dataclass
class JobServer:
    source_server_id: str
    launch_status: str = "PENDING"  # PENDING | IN_PROGRESS | LAUNCHED | FAILED | TERMINATED
    recovery_instance_id: str | None = None


@dataclass
class DrsJob:
    job_id: str
    status: str  # PENDING | STARTED | COMPLETED
    type: str = "LAUNCH"
    initiated_by: str = ""
    arn: str = ""
    creation_time: datetime | None = None
    end_time: datetime | None = None
    servers: list[JobServer] = field(default_factory=list)


@dataclass
class JobLogItem:
    event: str  # JOB_START, LAUNCH_FAILED, JOB_END, ...
    time: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)  # eventData as returned


@dataclass
class SourceServer:
    source_server_id: str
    hostname: str = ""
    replication_state: str = ""
    last_launch_status: str | None = None
    recovery_instance_id: str | None = None


@dataclass
class RecoveryInstance:
    recovery_instance_id: str
    source_server_id: str = ""
    ec2_instance_id: str | None = None
    state: str = ""
    job_id: str | None = None


# ---- IAM ------------------------------------------------------------------------------------------

@dataclass
class Decision:
    """One needed action of a role, as the IAM evaluator (or SimulatePrincipalPolicy) decided it."""

    action: str
    decision: str  # allowed | explicitDeny | implicitDeny (AWS's names)
    resource: str = "*"
    reason: str = ""  # the statement that decided, or why nothing matched
    where: list[str] = field(default_factory=list)  # file:line of the calls that need it (needs from code)
    follow_on: bool = False  # DRS performs it with these credentials after StartRecovery

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


@dataclass
class RoleDecisions:
    """Every action a role needs for its kind of work, decided; ``engine`` names who answered."""

    kind: str  # orchestration | finder | poller | statemachine
    role_arn: str
    engine: str = "local"  # local (drsdoctor.iam evaluator) | simulate-principal-policy
    function: str | None = None  # the function this role runs, when it is a function's role
    decisions: list[Decision] = field(default_factory=list)
    needs_from: str = "kind"  # code: what the function's code calls | kind: what its kind of function needs
    assumed_by: str = ""  # the function role that assumes this one (sts:AssumeRole in the code)
    unreadable: str = ""  # why this role's policies could not be judged (an assumed role we may not read)
    trust_policy: str = ""  # an assumed role's trust policy (JSON text), as IAM gave it


    def denied(self) -> list[Decision]:
        return [decision for decision in self.decisions if not decision.allowed]


@dataclass
class AccountReach:
    """How drsdoctor read another account where DRS is called (the role it assumed, or the profile), or why it
    could not: then `missing` names the facts it could not read there."""

    account: str
    region: str = ""
    via: str = ""  # role ARN or profile:NAME; empty when not reached
    how: str = ""  # operator-role | operator-profile | orchestrator-role
    tried: list[str] = field(default_factory=list)  # every way tried, with why it failed
    missing: list[str] = field(default_factory=list)  # the facts of that account not read

    @property
    def reached(self) -> bool:
        return bool(self.via)


# ---- CloudFormation -------------------------------------------------------------------------------

@dataclass
class StackResource:
    logical_id: str
    type: str
    physical_id: str = ""
    status: str = ""


@dataclass
class Stack:
    name: str
    arn: str = ""
    status: str = ""
    template: str | None = None  # the deployed template body (YAML or JSON text), when fetched
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    resources: list[StackResource] = field(default_factory=list)


# ---- What could not be gathered -------------------------------------------------------------------

@dataclass
class FactError:
    """A fact that could not be gathered: the call, the resource, the error and the missing permission.

    ``resource`` is empty when the whole fact is missing; a name or ARN when only that resource's part is.
    """

    fact: str
    call: str  # service:Operation, e.g. lambda:GetFunctionConfiguration
    code: str  # AccessDeniedException, ThrottlingException, Timeout, ...
    resource: str = ""
    message: str = ""
    permission: str | None = None

    def describe(self) -> str:
        where = f" on {self.resource}" if self.resource else ""
        need = f" (needs {self.permission})" if self.permission else ""
        return f"{self.call}{where} failed: {self.code}{': ' + self.message if self.message else ''}{need}"


# ---- The Snapshot ---------------------------------------------------------------------------------

@dataclass
class Snapshot:
    target: str  # the execution ARN diagnosed
    region: str = ""
    account: str = ""
    collected_at: datetime | None = None  # the checks' "now": a saved bundle re-checks the same
    execution: Execution | None = field(default=None, metadata=gathered_by("states:DescribeExecution"))
    history: History | None = field(default=None, metadata=gathered_by("states:GetExecutionHistory"))
    state_machine: StateMachine | None = field(
        default=None, metadata=gathered_by("states:DescribeStateMachine"))
    functions: list[Function] = field(default_factory=list, metadata=gathered_by(
        "lambda:GetFunction", "lambda:GetFunctionConcurrency", "lambda:ListFunctions",
        "lambda:GetPolicy", "logs:DescribeLogStreams", "logs:FilterLogEvents",
        optional={"lambda:ListTags": "GetFunction returns a function's tags, which name its stack, only with "
                                     "this: the stack is then found without listing the account's stacks"}))
    tables: list[Table] = field(default_factory=list, metadata=gathered_by("dynamodb:DescribeTable"))
    region_table_names: list[str] = field(default_factory=list, metadata=gathered_by(optional={
        "dynamodb:ListTables": "the region's table names: LMB001 suggests the near miss for a mistyped "
                               "table and recognises tables named by variables without TABLE in their name"}))
    execution_record: ExecutionRecord | None = field(
        default=None, metadata=gathered_by("dynamodb:Query"))
    rules: list[Rule] = field(default_factory=list, metadata=gathered_by(
        "events:DescribeRule", "events:ListTargetsByRule", "events:ListRuleNamesByTarget"))
    drs_jobs: list[DrsJob] = field(default_factory=list, metadata=gathered_by("drs:DescribeJobs"))
    job_log_items: dict[str, list[JobLogItem]] = field(
        default_factory=dict, metadata=gathered_by("drs:DescribeJobLogItems"))
    # No check reads these two yet: they put each server's replication state and instance in the bundle.
    source_servers: list[SourceServer] = field(default_factory=list, metadata=gathered_by(optional={
        "drs:DescribeSourceServers": "each wave server's replication state and last launch, in the bundle"}))
    recovery_instances: list[RecoveryInstance] = field(default_factory=list, metadata=gathered_by(optional={
        "drs:DescribeRecoveryInstances": "the recovery instances DRS launched for the wave's servers, in the "
                                         "bundle"}))
    role_decisions: list[RoleDecisions] = field(default_factory=list, metadata=gathered_by(
        "iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
        "iam:GetPolicy", "iam:GetPolicyVersion",
        optional={"iam:SimulatePrincipalPolicy": "AWS's own policy simulator decides the roles' needs: it "
                                                 "also applies the organization's SCPs, which drsdoctor's "
                                                 "local evaluator cannot read"}))
    # the other accounts DRS is called in, and how drsdoctor read them (or why not)
    accounts: list[AccountReach] = field(default_factory=list, metadata=gathered_by(optional={
        "sts:AssumeRole": "reads DRS (jobs, log items) and the recovery role in the account where the "
                          "recovery runs, with --assume-role or the orchestrator's own recovery role"}))
    stack: Stack | None = field(default=None, metadata=gathered_by(
        "cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:GetTemplate",
        "cloudformation:ListStacks",
        optional={"states:ListTagsForResource": "the state machine's aws:cloudformation:stack-name tag names "
                                                "its stack in one call, instead of listing the account's "
                                                "stacks (the first 200 are searched)"}))
    # DRS's own orchestration: a recovery plan execution diagnosed (drsdoctor.planfacts), the plan's others
    recovery_plan: RecoveryPlanRun | None = field(default=None, metadata=gathered_by(
        "drs:GetRecoveryPlanExecution", "drs:ListRecoveryPlanExecutionSteps",
        "drs:GetRecoveryPlanExecutionStep",
        optional={"drs:GetRecoveryPlan": "the recovery plan's name, in the report"}))
    plan_executions: list[PlanExecutionSummary] = field(default_factory=list, metadata=gathered_by(
        "drs:ListRecoveryPlanExecutions"))
    # what this orchestrator is: its parts, how progress is driven, where the wave status lives
    topology: Topology = field(default_factory=Topology)
    fact_errors: list[FactError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the collector wants the reader to know

    # -- lookups checks use ---------------------------------------------------------------------

    def missing(self, fact_name: str, resource: str | None = None) -> FactError | None:
        """The error that kept ``fact_name`` (or that resource's part of it) from being gathered."""
        for error in self.fact_errors:
            if error.fact != fact_name:
                continue
            if resource is None or error.resource in ("", resource):
                return error
        return None

    def errors_for(self, fact_name: str) -> list[FactError]:
        return [error for error in self.fact_errors if error.fact == fact_name]

    def function_of_kind(self, kind: str) -> Function | None:
        return next((function for function in self.functions if function.kind == kind), None)

    def functions_of_kind(self, *kinds: str) -> list[Function]:
        return [function for function in self.functions if function.kind in kinds]

    def function(self, name_or_arn: str) -> Function | None:
        bare = _function_arn_without_qualifier(name_or_arn)
        for function in self.functions:
            if name_or_arn in (function.name, function.arn) or bare == function.arn:
                return function
        return None

    def rules_targeting(self, functions: str | Function | Iterable[Function | str]) -> list[Rule]:
        """Rules with a target that is one of these functions (by ARN, name, or Function)."""
        if isinstance(functions, (str, Function)):
            functions = [functions]
        arns = set()
        for item in functions:
            function = item if isinstance(item, Function) else self.function(item)
            arns.add(function.arn if function else _function_arn_without_qualifier(str(item)))
        return [rule for rule in self.rules
                if any(_function_arn_without_qualifier(target.arn) in arns for target in rule.targets)]

    def table(self, name: str) -> Table | None:
        return next((table for table in self.tables if table.name == name), None)

    def role(self, kind: str, function: str | None = None) -> RoleDecisions | None:
        for role in self.role_decisions:
            if role.kind == kind and (function is None or role.function == function):
                return role
        return None

    def job(self, job_id: str) -> DrsJob | None:
        return next((job for job in self.drs_jobs if job.job_id == job_id), None)

    # -- bundle ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"schema": BUNDLE_SCHEMA, **encode(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        if not isinstance(data, dict):
            raise ValueError(f"not a drsdoctor bundle (a JSON {type(data).__name__}, not an object)")
        schema = data.get("schema")
        if schema != BUNDLE_SCHEMA:
            raise ValueError(f"not a drsdoctor bundle (schema {schema!r}, expected {BUNDLE_SCHEMA!r})")
        body = {key: value for key, value in data.items() if key != "schema"}
        return typing.cast(Snapshot, decode(cls, body))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        """Load a bundle; a missing, unreadable or malformed file is the user's input error (exit 2)."""
        from drsdoctor.errors import InputError
        from drsdoctor.inputfile import BUNDLE_LIMIT, read_bounded

        text = read_bounded(path, "bundle", BUNDLE_LIMIT)
        try:
            return cls.from_json(text)
        except RecursionError:
            raise InputError(f"bundle {path} is not valid: nested too deeply") from None
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise InputError(f"bundle {path} is not valid: {error}".splitlines()[0]) from None


def fact_actions() -> dict[str, tuple[str, ...]]:
    """Each top-level fact of the Snapshot and the read-only IAM actions that gather it (optional last)."""
    fields = dataclasses.fields(Snapshot)
    return {f.name: tuple(f.metadata["actions"]) for f in fields if "actions" in f.metadata}


def optional_fact_actions() -> dict[str, dict[str, str]]:
    """Each fact's optional actions (used when allowed, done without when denied) and what each adds."""
    return {f.name: dict(f.metadata["optional"]) for f in dataclasses.fields(Snapshot)
            if f.metadata.get("optional")}


def _function_arn_without_qualifier(arn: str) -> str:
    # arn:aws:lambda:region:account:function:name[:alias-or-version]
    parts = arn.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 and parts[2] == "lambda" else arn
