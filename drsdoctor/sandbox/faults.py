"""The fault catalogue: drift that breaks a working orchestrator, injected through the public AWS APIs.

Each fault has a name (a public contract: `demo --fault NAME`, `sandbox serve --fault NAME`), a one-line
summary, the root cause in an operator's words (what diagnose should name), `inject(world)` and
`repair(world)` (the fix, also through the APIs, so tests can share one world and the demo can show the
remedy). Faults find what they break through the world's name map (`world.names`, keys in
drsdoctor.sandbox.orchestrators.base), never by the reference's literal names, so every orchestrator of the
reference's design (the reference renamed, for one) takes them; `FAULTS` is the reference's catalogue and each
orchestrator holds its own (`world.orchestrator.faults`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drsdoctor.sandbox.world import Sandbox

OTHER_ENVIRONMENT = "archive"
LAUNCH_FAILURE_HOST = "app-2"
LAUNCH_FAILURE_REASON = "Replication of the source server is stalled; no recent snapshot to launch from"


@dataclass(frozen=True)
class Fault:
    name: str
    summary: str
    root_cause: str
    symptom: str  # what the operator sees: STUCK (loops in its polling states) or FAILED
    inject: Callable[[Sandbox], None]
    repair: Callable[[Sandbox], None]


# -- IAM: edit a statement of a role's inline policy -------------------------------------------------------

def _role_of(world: Sandbox, function_role: str) -> str:
    return world.names[f"role:{function_role}"]


def _policy_names(world: Sandbox, role: str) -> list[str]:
    return list(world.client("iam").list_role_policies(RoleName=role)["PolicyNames"])


def remove_action(world: Sandbox, function_role: str, action: str) -> None:
    """Drop one action from every statement of the inline policies of role:FUNCTION_ROLE (the name map's
    key) (empty statements go too); restore_policies puts them back. Any orchestrator's faults may use it."""
    iam = world.client("iam")
    role = _role_of(world, function_role)
    for name in _policy_names(world, role):
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        edited = copy.deepcopy(document)
        statements = edited["Statement"] if isinstance(edited["Statement"], list) else [edited["Statement"]]
        kept = []
        for statement in statements:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else list(actions)
            if action in actions:
                actions.remove(action)
                if not actions:
                    continue
                statement["Action"] = actions
            kept.append(statement)
        edited["Statement"] = kept
        if edited != document:
            world.saved.setdefault(f"policy:{role}:{name}", document)
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(edited))


def restore_policies(world: Sandbox, function_role: str) -> None:
    iam = world.client("iam")
    role = _role_of(world, function_role)
    for name in _policy_names(world, role):
        document = world.saved.pop(f"policy:{role}:{name}", None)
        if document is not None:
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


# -- the faults --------------------------------------------------------------------------------------------

def _disable_finder_rule(world: Sandbox) -> None:
    world.client("events").disable_rule(Name=world.finder_rule_name)


def _enable_finder_rule(world: Sandbox) -> None:
    world.client("events").enable_rule(Name=world.finder_rule_name)


def _remove_finder_permission(world: Sandbox) -> None:
    """Delete the finder's resource-policy statement that lets EventBridge invoke it."""
    lambda_ = world.client("lambda")
    name = world.function_name("execution-finder")
    policy = json.loads(lambda_.get_policy(FunctionName=name)["Policy"])
    for statement in policy["Statement"]:
        principal = statement.get("Principal", {})
        if isinstance(principal, dict) and principal.get("Service") == "events.amazonaws.com":
            world.saved.setdefault("finder-permissions", []).append(statement)
            lambda_.remove_permission(FunctionName=name, StatementId=statement["Sid"])


def _restore_finder_permission(world: Sandbox) -> None:
    lambda_ = world.client("lambda")
    for statement in world.saved.pop("finder-permissions", []):
        source = next(iter(statement.get("Condition", {}).get("ArnLike", {}).values()), None)
        extra = {"SourceArn": source} if source else {}
        lambda_.add_permission(FunctionName=world.function_name("execution-finder"),
                               StatementId=statement["Sid"], Action="lambda:InvokeFunction",
                               Principal="events.amazonaws.com", **extra)


def _poller_env_mismatch(world: Sandbox) -> None:
    """The poller reads the archive environment's table: it exists, so nothing errors; it finds nothing."""
    other = world.names["table:execution-history@archive"]
    dynamodb = world.client("dynamodb")
    if other not in dynamodb.list_tables()["TableNames"]:
        # the same key as the environment's own table: only the environment differs
        table = dynamodb.describe_table(TableName=world.names["table:execution-history"])["Table"]
        keys = {key["AttributeName"] for key in table["KeySchema"]}
        dynamodb.create_table(
            TableName=other, BillingMode="PAY_PER_REQUEST", KeySchema=table["KeySchema"],
            AttributeDefinitions=[a for a in table["AttributeDefinitions"] if a["AttributeName"] in keys])
    lambda_ = world.client("lambda")
    name = world.function_name("execution-poller")
    variables = dict(lambda_.get_function_configuration(FunctionName=name)["Environment"]["Variables"])
    world.saved.setdefault("poller-env", dict(variables))
    variables[world.names["env:EXECUTION_TABLE"]] = other
    lambda_.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def _restore_poller_env(world: Sandbox) -> None:
    variables = world.saved.pop("poller-env", None)
    if variables is not None:
        world.client("lambda").update_function_configuration(
            FunctionName=world.function_name("execution-poller"), Environment={"Variables": variables})


def _drift_choice(world: Sandbox) -> None:
    """CheckWaveStatus compares with "Completed": a completed wave never matches and loops forever."""
    sfn = world.client("stepfunctions")
    deployed = sfn.describe_state_machine(stateMachineArn=world.state_machine_arn)["definition"]
    world.saved.setdefault("definition", deployed)  # the text as deployed: repair puts back the very same
    definition = json.loads(deployed)
    choice_state = definition["States"][world.names["state:CheckWaveStatus"]]

    def drift(rule: Any) -> Any:
        if isinstance(rule, dict):
            if rule.get("StringEquals") == "COMPLETED":
                rule = {**rule, "StringEquals": "Completed"}
            return {key: drift(value) for key, value in rule.items()}
        if isinstance(rule, list):
            return [drift(item) for item in rule]
        return rule

    choice_state["Choices"] = drift(choice_state["Choices"])
    sfn.update_state_machine(stateMachineArn=world.state_machine_arn, definition=json.dumps(definition))


def _restore_definition(world: Sandbox) -> None:
    definition = world.saved.pop("definition", None)
    if definition is not None:
        world.client("stepfunctions").update_state_machine(stateMachineArn=world.state_machine_arn,
                                                           definition=definition)


def _failing_server(world: Sandbox) -> str:
    for plan in world.plans:
        for wave in plan.waves:
            for hostname, server_id in zip(wave.hostnames, wave.source_server_ids, strict=True):
                if hostname == LAUNCH_FAILURE_HOST:
                    return server_id
    raise LookupError(f"no source server {LAUNCH_FAILURE_HOST} in the seeded plans")


def _stall_server(world: Sandbox) -> None:
    # DRS has no API to break replication: this one goes through the simulator, as a network outage would.
    server = _failing_server(world)
    world.drs.set_replication(server, "STALLED")
    world.drs.set_outcome(server, "FAILED", LAUNCH_FAILURE_REASON)


def _heal_server(world: Sandbox) -> None:
    server = _failing_server(world)
    world.drs.set_replication(server, "CONTINUOUS")
    world.drs.set_outcome(server, "LAUNCHED")


FAULTS: dict[str, Fault] = {fault.name: fault for fault in (
    Fault("finder-rule-disabled",
          "The execution-finder schedule rule is disabled (events:DisableRule).",
          "The EventBridge rule that runs the execution-finder every minute is DISABLED, so the poller is "
          "never invoked and the wave status in DynamoDB never leaves POLLING.",
          "STUCK", _disable_finder_rule, _enable_finder_rule),
    Fault("finder-permission-removed",
          "The finder's resource policy no longer lets EventBridge invoke it (lambda:RemovePermission).",
          "The execution-finder's resource-based policy lost the statement that lets events.amazonaws.com "
          "invoke it from the schedule rule: the rule fires, every invocation fails (FailedInvocations), "
          "the poller never runs and the wave status never leaves POLLING.",
          "STUCK", _remove_finder_permission, _restore_finder_permission),
    Fault("poller-missing-drs-describe",
          "The poller's role lost drs:DescribeJobs (iam:PutRolePolicy with the statement edited).",
          "The execution-poller role's policy no longer allows drs:DescribeJobs, so every poll is denied "
          "and the wave status is written as UNKNOWN.",
          "STUCK", lambda w: remove_action(w, "execution-poller", "drs:DescribeJobs"),
          lambda w: restore_policies(w, "execution-poller")),
    Fault("orchestrator-missing-follow-on",
          "The orchestration role lost drs:CreateRecoveryInstanceForDrs.",
          "The orchestration role lacks drs:CreateRecoveryInstanceForDrs, which DRS uses with the caller's "
          "credentials to launch recovery instances: the job ends COMPLETED with every server FAILED.",
          "FAILED", lambda w: remove_action(w, "orchestration", "drs:CreateRecoveryInstanceForDrs"),
          lambda w: restore_policies(w, "orchestration")),
    Fault("poller-table-env-mismatch",
          f"The poller's EXECUTION_TABLE names the {OTHER_ENVIRONMENT} environment's table "
          "(lambda:UpdateFunctionConfiguration).",
          f"The execution-poller's EXECUTION_TABLE environment variable names "
          f"drs-orchestrator-{OTHER_ENVIRONMENT}-execution-history, another environment's table: it never "
          "finds the execution, so the wave status is never updated.",
          "STUCK", _poller_env_mismatch, _restore_poller_env),
    Fault("statemachine-choice-drift",
          "The deployed definition compares the wave status with \"Completed\" (states:UpdateStateMachine).",
          "The deployed state machine definition drifted: CheckWaveStatus compares $.waveStatus with "
          "\"Completed\" instead of \"COMPLETED\", so a completed wave loops in WaitForWave forever.",
          "STUCK", _drift_choice, _restore_definition),
    Fault("server-launch-failure",
          f"Source server {LAUNCH_FAILURE_HOST} fails to launch in DRS (its replication stalled).",
          f"DRS could not launch source server {LAUNCH_FAILURE_HOST}: its replication is STALLED, the launch "
          "ends FAILED, and the wave (and execution) fail.",
          "FAILED", _stall_server, _heal_server),
)}


def get(name: str, orchestrator: str = "reference") -> Fault:
    """The fault of that name in the orchestrator's catalogue; a bad name is the user's input error."""
    from drsdoctor.sandbox import orchestrators

    return orchestrators.get(orchestrator).fault(name)


def inject(name: str, world: Sandbox) -> Fault:
    fault = world.orchestrator.fault(name)
    fault.inject(world)
    return fault


def catalogue(orchestrator: str = "reference") -> list[str]:
    """One line a fault, for `demo --list-faults`."""
    from drsdoctor.sandbox import orchestrators

    return orchestrators.get(orchestrator).catalogue()
