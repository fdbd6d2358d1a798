"""An execution's own failure outranks a world fault it never reached: an execution that failed at StartWave
with DRS's ConflictException (its servers were in another execution's job) is named for that, while a
permission gap of the poller, which it never got as far as needing, is listed under "also"."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import EXEC_ARN, NOW, SM_ARN, HistoryWriter, Snapshot, allowed, healthy

from drsdoctor.checkapi import CAUSE, MECHANISM, SYMPTOM, Finding
from drsdoctor.engine import diagnose, rank_root_cause
from drsdoctor.snapshot import Decision, Execution, ExecutionRecord, WaveRecord

CONFLICT = ('{"errorMessage": "An error occurred (ConflictException) when calling the StartRecovery '
            'operation: Source server s-1 is already participating in another job", '
            '"errorType": "ConflictException"}')


def failed_at_start_wave() -> Snapshot:
    """The tester's run: a second execution of a plan whose servers another execution's job holds."""
    start = NOW - timedelta(minutes=3)
    writer = HistoryWriter(start).add("ExecutionStarted", input='{"planId": "plan-1"}')
    writer.state("BeginPlan", "Task", {"executionId": "exec-1"})
    writer.add("TaskStateEntered", name="StartWave", input="{}")
    writer.add("TaskScheduled", resource="invoke", resourceType="lambda")
    writer.add("TaskFailed", error="ConflictException", cause=CONFLICT)
    writer.add("ExecutionFailed", error="ConflictException", cause=CONFLICT)
    snap = healthy(
        execution=Execution(arn=EXEC_ARN, status="FAILED", state_machine_arn=SM_ARN, name="exec-1",
                            start_date=start, stop_date=NOW - timedelta(minutes=2),
                            error="ConflictException", cause=CONFLICT),
        history=writer.history(),
        execution_record=ExecutionRecord(
            table="drs-execution-history-prod", key={"executionId": "exec-1"}, status="RUNNING",
            updated_at=start, waves=[WaveRecord(number=1, status="PENDING", server_ids=["s-1", "s-2"],
                                                updated_at=start)]),
        drs_jobs=[], job_log_items={})
    poller = snap.role("poller")
    assert poller is not None
    poller.decisions = [*allowed("drs:DescribeJobLogItems", "dynamodb:UpdateItem"),  # as the fault leaves it
                        Decision("drs:DescribeJobs", "implicitDeny", "*")]
    return snap


def test_the_executions_own_error_is_the_root_cause_and_the_permission_gap_comes_under_also() -> None:
    report = diagnose(failed_at_start_wave())
    failing = {f.check for f in report.findings if f.status == "fail"}
    assert "IAM002" in failing  # the gap is real, and still reported
    assert report.root_cause is not None
    root = report.root_cause.finding
    assert root.check in ("SFN001", "SFN003") and "ConflictException" in root.detail
    assert [f.check for f in report.root_cause.also] == ["IAM002"]


def make(check: str, layer: str, shows=(), explains=()) -> Finding:
    return Finding(check=check, status="fail", layer=layer, shows=tuple(shows), explains=tuple(explains),
                   severity="high", detail=check)


def test_a_failure_seen_on_the_way_outranks_a_cause_that_reaches_the_symptom_only_by_implication() -> None:
    own = make("OWN", MECHANISM, shows=["task-failing"], explains=["execution-failed"])
    world = make("WORLD", CAUSE, explains=["wave-status-stale"])  # leads to execution-failed, unobserved
    root = rank_root_cause([make("ENDED", SYMPTOM, shows=["execution-failed"]), world, own])
    assert root is not None and root.finding.check == "OWN"
    assert [f.check for f in root.also] == ["WORLD"]


def test_a_cause_that_explains_the_failure_observed_on_the_way_still_leads() -> None:
    own = make("TASK", MECHANISM, shows=["task-failing"], explains=["execution-failed"])
    gap = make("GAP", CAUSE, explains=["task-failing"])  # the orchestration role: why the task failed
    root = rank_root_cause([make("ENDED", SYMPTOM, shows=["execution-failed"]), own, gap])
    assert root is not None and root.finding.check == "GAP"
    assert [f.check for f in root.chain] == ["TASK", "ENDED"]
