"""From a DRS recovery plan execution ARN to a filled Snapshot: the execution and its steps, the plan's other
executions, each step's job with its servers and log, and the permissions of the role that started it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

from drsdoctor.aws import AwsSession
from drsdoctor.aws.failures import AwsFailure, classify
from drsdoctor.collect import drs
from drsdoctor.collect.gather import ExecutionUnreadable, Gatherer, Progress, mark_unreached
from drsdoctor.errors import AwsCallError, DrsdoctorError, InputError
from drsdoctor.planfacts import PlanExecutionStep, PlanExecutionSummary, PlanStepServer, RecoveryPlanRun
from drsdoctor.snapshot import Decision, RoleDecisions, Snapshot

EXPECTED = "arn:aws:drs:REGION:ACCOUNT:recovery-plan-execution/ID"
EXPECTED_PLAN = "arn:aws:drs:REGION:ACCOUNT:recovery-plan/ID"
_DRS_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):drs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>[a-z-]+)/(?P<id>[A-Za-z0-9_.-]+)$"
)
# DRS names the caller in an AccessDenied: "User: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION is not ..."
_CALLER = re.compile(r"User: (arn:[^\s]+)")
STARTER_KIND = "plan-starter"  # RoleDecisions.kind of the role that started the plan
PAGE = 100
MAX_PAGES = 5


@dataclass(frozen=True)
class DrsTarget:
    arn: str
    partition: str
    region: str
    account: str
    kind: str  # recovery-plan-execution | recovery-plan


def is_drs_arn(text: str) -> bool:
    return text.strip().startswith("arn:") and text.strip().split(":")[2:3] == ["drs"]


def parse_drs_arn(text: str, kind: str = "recovery-plan-execution") -> DrsTarget:
    """A recovery plan (execution) ARN, or InputError saying what is wrong with it (exit 2)."""
    expected = EXPECTED if kind == "recovery-plan-execution" else EXPECTED_PLAN
    arn = text.strip()
    match = _DRS_ARN.match(arn)
    shown = repr(arn[:120])[1:-1]
    if match is None:
        raise InputError(f"malformed DRS ARN: {shown} (expected {expected})")
    if match["kind"] != kind:
        raise InputError(f"{shown} is a DRS {match['kind']} ARN, not a {kind} ARN ({expected})")
    return DrsTarget(arn, match["partition"], match["region"], match["account"], kind)


class PlanExecutionNotFound(DrsdoctorError):
    """The ARN is well formed but DRS knows no such execution: exit 3, one line."""


def collect_plan(
    arn: str,
    session: AwsSession,
    *,
    plan_role: str | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Every fact about one recovery plan execution. Raises InputError for a bad ARN, PlanExecutionNotFound,
    ExecutionUnreadable when GetRecoveryPlanExecution fails (no verdict without it), AwsUnavailable."""
    target = parse_drs_arn(arn)
    snap = Snapshot(
        target=target.arn,
        region=target.region,
        account=target.account,
        collected_at=now or datetime.now(timezone.utc),
    )
    gather = Gatherer(session, snap, target.region, progress=progress)
    gather.progress("reading the recovery plan execution and its steps")
    try:
        found = gather.call(
            "drs", "get_recovery_plan_execution", target.arn, recoveryPlanExecutionArn=target.arn
        )["recoveryPlanExecution"]
    except AwsFailure as failure:
        if failure.kind == "not_found":
            raise PlanExecutionNotFound(
                f"recovery plan execution {target.arn} does not exist in {target.region} "
                f"(account {target.account}): {failure.code}; check the ARN, --profile "
                "and --endpoint-url"
            ) from None
        if failure.fatal:
            raise
        raise ExecutionUnreadable(failure, session.budget) from None
    run = RecoveryPlanRun(
        arn=target.arn,
        plan_arn=found["recoveryPlanArn"],
        status=found["status"],
        mode=found.get("mode", ""),
        started_at=drs._date(found.get("startedAt")),
        completed_at=drs._date(found.get("completedAt")),
        error_code=(found.get("errorDetail") or {}).get("code", ""),
        error_message=(found.get("errorDetail") or {}).get("message", ""),
    )
    snap.recovery_plan = run
    steps, others, name = gather.in_parallel(
        [
            partial(gather.fact, "recovery_plan", target.arn, partial(_steps, gather, target.arn)),
            partial(gather.fact, "plan_executions", run.plan_arn, partial(_executions, gather, run.plan_arn)),
            partial(_plan_name, gather, run.plan_arn),
        ]
    )
    run.steps, snap.plan_executions, run.plan_name = steps or [], others or [], name or ""
    gather.in_parallel(
        [
            partial(_step_times, gather, step)
            for step in run.steps
            if step.status not in ("NOT_STARTED", "COMPLETED", "SKIPPED")
        ]
    )
    run.starter_role, run.starter_from = _starter(run, plan_role)
    gather.progress("reading the steps' jobs and the starter's permissions")
    gather.in_parallel([partial(_jobs, gather, snap), partial(_starter_decisions, gather, snap)])
    mark_unreached(snap)
    gather.progress(f"done: {session.call_log.summary()}")
    return snap


def _steps(gather: Gatherer, arn: str) -> list[PlanExecutionStep]:
    found: list[PlanExecutionStep] = []
    for page in gather.pages(
        "drs",
        "list_recovery_plan_execution_steps",
        arn,
        "nextToken",
        "nextToken",
        max_pages=MAX_PAGES,
        recoveryPlanExecutionArn=arn,
        maxResults=PAGE,
    ):
        found.extend(_step(item) for item in page["recoveryPlanExecutionSteps"])
    return sorted(found, key=lambda step: step.index)


def _step(item: dict[str, Any]) -> PlanExecutionStep:
    configuration = item.get("configuration") or {}
    servers = (configuration.get("executionServerStepConfiguration") or {}).get("servers") or []
    wait = configuration.get("waitStepConfiguration")
    error = item.get("errorDetail") or {}
    return PlanExecutionStep(
        arn=item["recoveryPlanExecutionStepArn"],
        index=int(item["stepIndex"]),
        name=item.get("stepName", ""),
        status=item["status"],
        wait_minutes=int(wait["waitDurationMinutes"]) if wait else None,
        servers=[
            PlanStepServer(s["serverArn"], s.get("impactLevel") or "CRITICAL", s.get("jobID"))
            for s in servers
        ],
        error_code=error.get("code", ""),
        error_message=error.get("message", ""),
        attempt=item.get("attempt"),
        updated_at=drs._date(item.get("updatedAt")),
    )


def _step_times(gather: Gatherer, step: PlanExecutionStep) -> None:
    """When a step that is under way or ended badly last changed, and its attempt: the listing has neither."""

    def describe() -> None:
        found = gather.call(
            "drs", "get_recovery_plan_execution_step", step.arn, recoveryPlanExecutionStepArn=step.arn
        )["recoveryPlanExecutionStep"]
        step.updated_at, step.attempt = drs._date(found.get("updatedAt")), found.get("attempt")

    gather.fact("recovery_plan", step.arn, describe)


def _executions(gather: Gatherer, plan_arn: str) -> list[PlanExecutionSummary]:
    found: list[PlanExecutionSummary] = []
    for page in gather.pages(
        "drs",
        "list_recovery_plan_executions",
        plan_arn,
        "nextToken",
        "nextToken",
        max_pages=MAX_PAGES,
        recoveryPlanArn=plan_arn,
        maxResults=PAGE,
    ):
        found.extend(
            PlanExecutionSummary(
                item["recoveryPlanExecutionArn"],
                item["status"],
                item.get("mode", ""),
                drs._date(item.get("startedAt")),
            )
            for item in page["recoveryPlanExecutions"]
        )
    return found


def _plan_name(gather: Gatherer, plan_arn: str) -> str | None:
    def read() -> str:
        return str(
            gather.call("drs", "get_recovery_plan", plan_arn, recoveryPlanArn=plan_arn)["recoveryPlan"][
                "name"
            ]
        )

    return gather.fact("recovery_plan", plan_arn, read)


def _jobs(gather: Gatherer, snap: Snapshot) -> None:
    """Each step's job, its servers' replication and last launch, and the log of every job."""
    run = snap.recovery_plan
    assert run is not None
    job_ids = [job for step in run.steps for job in step.job_ids()]
    if not job_ids:
        return
    snap.drs_jobs = drs.jobs(gather, snap.region, job_ids, None)
    servers = list(dict.fromkeys(s.source_server_id for step in run.steps for s in step.servers if s.job_id))
    answers = gather.in_parallel(
        [
            partial(drs.source_servers, gather, snap.region, servers),
            *[partial(drs.log_items, gather, snap.region, job.job_id) for job in snap.drs_jobs],
        ]
    )
    snap.source_servers = answers[0]
    snap.job_log_items = {
        job.job_id: items for job, items in zip(snap.drs_jobs, answers[1:], strict=True) if items is not None
    }


def _starter(run: RecoveryPlanRun, plan_role: str | None) -> tuple[str, str]:
    """The role DRS launches the plan's jobs with: the operator's --plan-role, else the caller an AccessDenied
    in a step's errorDetail names (a role session: its role)."""
    if plan_role:
        return plan_role, "--plan-role"
    for step in run.steps:
        match = _CALLER.search(step.error_message)
        if match:
            return _role_of(match.group(1)), f"the errorDetail of step {step.index} ({step.name})"
    return "", ""


def _role_of(principal: str) -> str:
    if ":assumed-role/" not in principal:
        return principal
    prefix, _, rest = principal.partition(":assumed-role/")
    return f"{prefix.replace(':sts:', ':iam:', 1)}:role/{rest.split('/')[0]}"


def needs(snap: Snapshot) -> list[tuple[str, str, bool]]:
    """(action, resource, follow-on?) the starter needs: to start the plan, StartRecovery on the servers of
    the step that stopped (or the first), and what DRS then does with the starter's credentials."""
    from drsdoctor.iam.code_needs import authorised_on
    from drsdoctor.iam.drs_needs import follow_on_needs

    run = snap.recovery_plan
    assert run is not None
    partition = run.arn.split(":")[1]
    stopped = next(
        (s for s in run.steps if s.servers and s.status in ("FAILED", "TIMED_OUT", "EXECUTING")),
        next((s for s in run.steps if s.servers), None),
    )
    servers = [s.source_server_id for s in stopped.servers] if stopped else []
    names = {
        "partition": partition,
        "region": snap.region,
        "account": snap.account,
        "source_server": servers[0] if servers else "*",
    }
    asked = [("drs:StartRecoveryPlanExecution", run.plan_arn, False)]
    asked += [
        ("drs:StartRecovery", authorised_on("drs:StartRecovery", {**names, "source_server": sid}), False)
        for sid in servers or ["*"]
    ]
    asked += [(need.action, authorised_on(need.action, names), True) for need in follow_on_needs()]
    return asked


def _starter_decisions(gather: Gatherer, snap: Snapshot) -> None:
    run = snap.recovery_plan
    assert run is not None
    if not run.starter_role:
        return
    from drsdoctor.iam.principal import load_role
    from drsdoctor.iam.simulator import simulate

    def judge() -> RoleDecisions:
        iam = gather.session.client("iam", gather.region)
        principal = load_role(iam, run.starter_role)
        answer = RoleDecisions(kind=STARTER_KIND, role_arn=principal.arn or run.starter_role, engine="local")
        # AWS's own simulator where the caller may use it (it applies SCPs too), else drsdoctor's evaluator
        aws: list[Any] = [gather.session.client("iam", gather.region, attempts=1)]

        def decide(actions: list[str], resource: str, context: dict[str, str]) -> list[Any]:
            if aws[0] is not None:
                try:
                    answers = simulate(principal, actions, resource, context, iam_client=aws[0])
                except Exception:  # an endpoint that answers garbage (moto: HTML 500) cannot simulate
                    answers = []
                if answers and all(answer.engine == "aws" for answer in answers):
                    answer.engine = "simulate-principal-policy"
                    return answers
                aws[0] = None  # not available: the rest is decided here, without asking again
            answer.engine = "local"
            return simulate(principal, actions, resource, context)

        by_resource: dict[str, list[tuple[str, bool]]] = {}
        for action, resource, follow_on in needs(snap):
            by_resource.setdefault(resource, []).append((action, follow_on))
        for resource, asks in by_resource.items():
            context = (
                {"iam:PassedToService": "ec2.amazonaws.com"}
                if resource.endswith("RecoveryInstanceRole")
                else {}
            )
            for decided in decide([action for action, _ in asks], resource, context):
                answer.decisions.append(
                    Decision(
                        action=decided.action,
                        decision=decided.decision,
                        resource=decided.resource,
                        reason="; ".join(
                            f"{m.policy} {m.statement}".strip()
                            for m in getattr(decided, "matched_statements", [])
                        ),
                        follow_on=dict(asks).get(decided.action, False),
                    )
                )
        return answer

    try:
        decisions = gather.fact("role_decisions", run.starter_role, judge)
    except AwsCallError as failure:  # load_role's own error: the role's policies could not be read
        gather.record(
            "role_decisions",
            run.starter_role,
            AwsFailure(
                "iam",
                failure.operation,
                run.starter_role,
                failure.code,
                str(failure),
                failure.permission,
                classify(failure.code),
            ),
        )
        return
    except InputError as unreadable:  # a policy the parser cannot read: said, nothing decided
        snap.notes.append(f"the policies of {run.starter_role} could not be read: {unreadable}")
        return
    if decisions is not None:
        snap.role_decisions = [decisions]
