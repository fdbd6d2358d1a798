"""The recovery plan checks on Snapshots built by hand: what each says, and which one the engine ranks as
the root cause (a CRITICAL server's failure over an OPTIONAL one's; a wait past its minutes)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from drsdoctor.engine import diagnose
from drsdoctor.planfacts import PlanExecutionStep, PlanExecutionSummary, PlanStepServer, RecoveryPlanRun
from drsdoctor.snapshot import DrsJob, JobLogItem, JobServer, Snapshot, SourceServer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
DRS = "arn:aws:drs:us-east-1:123456789012"
EXECUTION = f"{DRS}:recovery-plan-execution/rpe-0123456789abcdef0"
PLAN = f"{DRS}:recovery-plan/rp-0123456789abcdef0"
DB, REPORT = "s-000000000000000d1", "s-000000000000000r1"


def _snap(run: RecoveryPlanRun, **facts: object) -> Snapshot:
    snap = Snapshot(
        target=run.arn,
        region="us-east-1",
        account="123456789012",
        collected_at=NOW,
        recovery_plan=run,
        plan_executions=[PlanExecutionSummary(run.arn, run.status, "DRILL")],
    )
    for name, value in facts.items():
        setattr(snap, name, value)
    return snap


def _server(sid: str, impact: str) -> PlanStepServer:
    return PlanStepServer(f"{DRS}:source-server/{sid}", impact, "drsjob-0000000000000000a")


def test_a_critical_failure_outranks_an_optional_one_in_the_same_step() -> None:
    step = PlanExecutionStep(
        f"{EXECUTION}/step/1",
        1,
        "databases",
        "FAILED",
        [_server(REPORT, "OPTIONAL"), _server(DB, "CRITICAL")],
        error_code="LAUNCH_FAILED",
        error_message=f"1 CRITICAL source server(s) did not launch: {DB} (FAILED)",
    )
    job = DrsJob(
        "drsjob-0000000000000000a",
        "COMPLETED",
        servers=[JobServer(REPORT, "FAILED"), JobServer(DB, "FAILED")],
    )
    log = [
        JobLogItem(
            "LAUNCH_FAILED", NOW, {"sourceServerID": REPORT, "rawError": "InsufficientInstanceCapacity"}
        ),
        JobLogItem(
            "LAUNCH_FAILED", NOW, {"sourceServerID": DB, "rawError": "no snapshot: replication STALLED"}
        ),
    ]
    snap = _snap(
        RecoveryPlanRun(EXECUTION, PLAN, "FAILED", "DRILL", steps=[step]),
        drs_jobs=[job],
        job_log_items={job.job_id: log},
        source_servers=[SourceServer(DB, "db-1", "STALLED"), SourceServer(REPORT, "report-1", "CONTINUOUS")],
    )
    report = diagnose(snap)
    assert report.root_cause is not None
    cause = report.root_cause.finding
    assert (cause.check, cause.status, cause.resource) == ("PLN002", "fail", DB) and "db-1" in cause.detail
    optional = next(f for f in report.findings if f.resource == REPORT)
    assert optional.status == "warn" and "does not stop the plan" in optional.detail


def test_a_wait_step_is_stuck_only_well_past_its_minutes() -> None:
    def waiting(minutes_ago: int) -> Snapshot:
        step = PlanExecutionStep(
            f"{EXECUTION}/step/2",
            2,
            "settle",
            "WAITING",
            wait_minutes=5,
            updated_at=NOW - timedelta(minutes=minutes_ago),
        )
        return _snap(RecoveryPlanRun(EXECUTION, PLAN, "IN_PROGRESS", "DRILL", steps=[step]))

    assert {f.check: f.status for f in diagnose(waiting(14)).findings}["PLN004"] == "pass"
    late = diagnose(waiting(16))
    assert late.root_cause is not None and late.root_cause.finding.check == "PLN004"
    assert "cancel-recovery-plan-execution" in late.root_cause.finding.remediation


def test_a_state_machine_snapshot_runs_no_plan_check_and_a_plan_snapshot_no_other() -> None:
    from tests.checks.builders import healthy

    assert not [f for f in diagnose(healthy()).findings if f.check.startswith("PLN")]
    plan = diagnose(_snap(RecoveryPlanRun(EXECUTION, PLAN, "COMPLETED", "DRILL")))
    assert plan.findings and all(f.check.startswith("PLN") for f in plan.findings) and not plan.plan
