"""A healthy Snapshot of a wave orchestrator, and small ways to break one fact of it at a time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from drsdoctor.snapshot import (
    Decision,
    DrsJob,
    Execution,
    ExecutionRecord,
    FactError,
    Function,
    History,
    HistoryEvent,
    JobLogItem,
    JobServer,
    RoleDecisions,
    Rule,
    RuleTarget,
    Snapshot,
    StateMachine,
    Table,
    TableIndex,
    WaveRecord,
)

REGION, ACCOUNT = "us-east-1", "123456789012"
NOW = datetime(2026, 1, 8, 10, 40, tzinfo=timezone.utc)
STARTED = NOW - timedelta(minutes=10)
SM_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:drs-orchestrator"
EXEC_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:drs-orchestrator:exec-1"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/drs-execution-finder-schedule"
TABLES = ["drs-plans-prod", "drs-groups-prod", "drs-execution-history-prod"]


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


DEFINITION = {
    "StartAt": "BeginPlan",
    "States": {
        "BeginPlan": {"Type": "Task", "Resource": fn_arn("drs-orchestration"), "Next": "StartWave"},
        "StartWave": {"Type": "Task", "Resource": fn_arn("drs-orchestration"), "Next": "WaitForWave"},
        "WaitForWave": {"Type": "Wait", "Seconds": 30, "Next": "CheckWaveStatus"},
        "CheckWaveStatus": {"Type": "Task", "Resource": fn_arn("drs-orchestration"), "Next": "WaveDone"},
        "WaveDone": {"Type": "Choice", "Choices": [
            {"Variable": "$.waveStatus", "StringEquals": "COMPLETED", "Next": "CompletePlan"},
            {"Variable": "$.waveStatus", "StringEquals": "FAILED", "Next": "PlanFailed"}],
            "Default": "WaitForWave"},
        "CompletePlan": {"Type": "Task", "Resource": fn_arn("drs-orchestration"), "End": True},
        "PlanFailed": {"Type": "Fail", "Error": "WaveFailed"},
    },
}


class HistoryWriter:
    """Writes a Step Functions history the way GetExecutionHistory returns it (ids in order)."""

    def __init__(self, start: datetime = STARTED, step: timedelta = timedelta(seconds=2)) -> None:
        self.events: list[HistoryEvent] = []
        self.clock, self.step = start, step

    def add(self, kind: str, **details: Any) -> HistoryWriter:
        self.events.append(HistoryEvent(id=len(self.events) + 1, type=kind, timestamp=self.clock,
                                        previous_event_id=len(self.events), details=details))
        self.clock += self.step
        return self

    def state(self, name: str, kind: str, output: dict[str, Any] | None = None) -> HistoryWriter:
        self.add(f"{kind}StateEntered", name=name, input="{}")
        if kind == "Task":
            self.add("TaskScheduled", resource="invoke", resourceType="lambda")
            self.add("TaskSucceeded", output=json.dumps(output or {}))
        self.add(f"{kind}StateExited", name=name, output=json.dumps(output or {}))
        return self

    def poll(self, status: str, times: int = 1, gap: timedelta = timedelta(seconds=30)) -> HistoryWriter:
        for _ in range(times):
            self.state("WaitForWave", "Wait")
            self.clock += gap
            output = {"executionId": "exec-1", "waveStatus": status, "waveNumber": 1}
            self.state("CheckWaveStatus", "Task", output)
            self.state("WaveDone", "Choice", {"waveStatus": status})
        return self

    def history(self, complete: bool = True) -> History:
        return History(events=sorted(self.events, key=lambda e: -e.id), complete=complete)


def healthy_history() -> History:
    writer = HistoryWriter().add("ExecutionStarted", input='{"planId": "plan-1"}')
    writer.state("BeginPlan", "Task", {"executionId": "exec-1"})
    writer.state("StartWave", "Task", {"jobIds": ["drsjob-1"]})
    writer.poll("STARTED", 2).poll("COMPLETED", 1)
    writer.state("CompletePlan", "Task", {"status": "COMPLETED"}).add("ExecutionSucceeded", output="{}")
    return writer.history()


def allowed(*actions: str) -> list[Decision]:
    return [Decision(action=action, decision="allowed", resource="*", reason="statement Drs")
            for action in actions]


ORCHESTRATION_NEEDS = ("drs:StartRecovery", "drs:DescribeSourceServers", "drs:CreateRecoveryInstanceForDrs",
                       "ec2:RunInstances", "ec2:CreateLaunchTemplateVersion", "iam:PassRole",
                       "dynamodb:GetItem", "dynamodb:UpdateItem")
POLLER_NEEDS = ("drs:DescribeJobs", "drs:DescribeJobLogItems", "dynamodb:UpdateItem")
FINDER_NEEDS = ("dynamodb:Query", "lambda:InvokeFunction")

INVOKE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "events-invoke", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
    "Action": "lambda:InvokeFunction", "Resource": fn_arn("drs-execution-finder"),
    "Condition": {"ArnLike": {"AWS:SourceArn": RULE_ARN}}}]})


def functions() -> list[Function]:
    env = {"EXECUTION_TABLE": "drs-execution-history-prod", "DRS_REGION": REGION}
    return [
        Function(name="drs-orchestration", arn=fn_arn("drs-orchestration"), kind="orchestration",
                 role_arn=role_arn("drs-orchestration-role"), runtime="python3.12",
                 environment={**env, "PLANS_TABLE": "drs-plans-prod", "GROUPS_TABLE": "drs-groups-prod",
                              "POLL_INTERVAL_SECONDS": "30"},
                 last_invocation=NOW - timedelta(seconds=40)),
        Function(name="drs-execution-finder", arn=fn_arn("drs-execution-finder"), kind="finder",
                 role_arn=role_arn("drs-finder-role"), policy=INVOKE_POLICY,
                 environment={**env, "STATUS_INDEX": "status-index",
                              "POLLER_FUNCTION": "drs-execution-poller"},
                 last_invocation=NOW - timedelta(seconds=30)),
        Function(name="drs-execution-poller", arn=fn_arn("drs-execution-poller"), kind="poller",
                 role_arn=role_arn("drs-poller-role"), environment=dict(env),
                 last_invocation=NOW - timedelta(seconds=29)),
    ]


def healthy(**changes: Any) -> Snapshot:
    """A recovery that ran one wave to completion, with everything it touches in order."""
    snap = Snapshot(
        target=EXEC_ARN, region=REGION, account=ACCOUNT, collected_at=NOW,
        execution=Execution(arn=EXEC_ARN, status="SUCCEEDED", state_machine_arn=SM_ARN, name="exec-1",
                            start_date=STARTED, stop_date=NOW - timedelta(minutes=1),
                            input='{"planId": "plan-1"}'),
        history=healthy_history(),
        state_machine=StateMachine(arn=SM_ARN, name="drs-orchestrator", definition=json.dumps(DEFINITION),
                                   role_arn=role_arn("drs-statemachine-role")),
        functions=functions(),
        tables=[Table(name=name, keys={"id": "HASH"}) for name in TABLES[:2]] + [
            Table(name=TABLES[2], keys={"executionId": "HASH"},
                  indexes=[TableIndex(name="status-index", keys={"status": "HASH"})])],
        region_table_names=[*TABLES, "drs-execution-history-dev"],
        execution_record=ExecutionRecord(
            table=TABLES[2], key={"executionId": "exec-1"}, status="COMPLETED",
            updated_at=NOW - timedelta(minutes=1),
            waves=[WaveRecord(number=1, status="COMPLETED", job_id="drsjob-1", server_ids=["s-1", "s-2"],
                              updated_at=NOW - timedelta(minutes=2))]),
        rules=[Rule(name="drs-execution-finder-schedule", arn=RULE_ARN, schedule_expression="rate(1 minute)",
                    targets=[RuleTarget(id="finder", arn=fn_arn("drs-execution-finder"))])],
        drs_jobs=[DrsJob(job_id="drsjob-1", status="COMPLETED", initiated_by="START_RECOVERY",
                         creation_time=STARTED, end_time=NOW - timedelta(minutes=3),
                         servers=[JobServer("s-1", "LAUNCHED", "i-r1"),
                                  JobServer("s-2", "LAUNCHED", "i-r2")])],
        job_log_items={"drsjob-1": [JobLogItem("JOB_START", STARTED), JobLogItem("LAUNCH_START", STARTED),
                                    JobLogItem("JOB_END", NOW - timedelta(minutes=3))]},
        role_decisions=[
            RoleDecisions("orchestration", role_arn("drs-orchestration-role"), function="drs-orchestration",
                          decisions=allowed(*ORCHESTRATION_NEEDS)),
            RoleDecisions("finder", role_arn("drs-finder-role"), function="drs-execution-finder",
                          decisions=allowed(*FINDER_NEEDS)),
            RoleDecisions("poller", role_arn("drs-poller-role"), function="drs-execution-poller",
                          decisions=allowed(*POLLER_NEEDS)),
            RoleDecisions("statemachine", role_arn("drs-statemachine-role"), decisions=[
                Decision("lambda:InvokeFunction", "allowed", fn_arn("drs-orchestration"),
                         "statement Invoke")]),
        ],
    )
    for name, value in changes.items():
        setattr(snap, name, value)
    return snap


def stuck(**changes: Any) -> Snapshot:
    """The incident: the execution polls forever, the wave status says UNKNOWN, nothing moves."""
    start = NOW - timedelta(minutes=45)
    writer = HistoryWriter(start).add("ExecutionStarted", input='{"planId": "plan-1"}')
    writer.state("BeginPlan", "Task", {"executionId": "exec-1"}).state("StartWave", "Task", {"jobIds": []})
    writer.poll("UNKNOWN", 40, gap=timedelta(seconds=50))
    snap = healthy(
        execution=Execution(arn=EXEC_ARN, status="RUNNING", state_machine_arn=SM_ARN, name="exec-1",
                            start_date=start),
        history=writer.history(),
        execution_record=ExecutionRecord(
            table=TABLES[2], key={"executionId": "exec-1"}, status="POLLING", updated_at=start,
            waves=[WaveRecord(number=1, status="UNKNOWN", job_id="drsjob-1", updated_at=start)]),
    )
    snap.drs_jobs[0].status = "STARTED"
    for change, value in changes.items():
        setattr(snap, change, value)
    return snap


def denied(error_code: str = "AccessDeniedException") -> FactError:
    return FactError(fact="functions", call="lambda:GetFunctionConfiguration", code=error_code,
                     resource="drs-execution-poller", permission="lambda:GetFunctionConfiguration")


def run(check_id: str, snap: Snapshot) -> list[tuple[str, str]]:
    """(status, resource) of every finding one check reports on ``snap``, through the engine."""
    return [(f.status, f.resource) for f in findings(check_id, snap)]


def findings(check_id: str, snap: Snapshot) -> list[Any]:
    from drsdoctor.engine import load_checks, run_check

    spec = next(spec for spec in load_checks(entry_points=False).checks if spec.id == check_id)
    return run_check(spec, snap)


def statuses(check_id: str, snap: Snapshot) -> set[str]:
    return {status for status, _ in run(check_id, snap)}
