"""Step Functions checks: failed executions, stuck polling loops, task errors, history size, drift."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from builders import (
    DEFINITION,
    EXEC_ARN,
    NOW,
    SM_ARN,
    HistoryWriter,
    Snapshot,
    findings,
    healthy,
    statuses,
    stuck,
)

from drsdoctor.snapshot import Execution, History, HistoryEvent, Stack, StateMachine


def failed_execution() -> Snapshot:
    writer = HistoryWriter().add("ExecutionStarted", input="{}")
    writer.state("BeginPlan", "Task", {}).add("TaskStateEntered", name="StartWave", input="{}")
    cause = "not authorized to perform drs:StartRecovery"
    writer.add("TaskFailed", error="DRS.AccessDenied", cause=cause)
    writer.add("ExecutionFailed", error="DRS.AccessDenied", cause=cause)
    return healthy(execution=Execution(EXEC_ARN, "FAILED", SM_ARN, stop_date=NOW), history=writer.history())


def progressing() -> Snapshot:
    writer = HistoryWriter(NOW - timedelta(minutes=10)).add("ExecutionStarted", input="{}")
    writer.state("BeginPlan", "Task", {}).state("StartWave", "Task", {})
    writer.poll("PENDING", 3).poll("STARTED", 4)
    return stuck(history=writer.history())


def retried_tasks() -> Snapshot:
    writer = HistoryWriter().add("ExecutionStarted", input="{}").add("TaskStateEntered", name="StartWave")
    for _ in range(3):
        writer.add("LambdaFunctionFailed", error="Lambda.TooManyRequestsException", cause="Rate exceeded")
    return healthy(history=writer.history())


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("succeeded", healthy, {"pass"}),
    ("running", stuck, {"pass"}),
    ("failed", failed_execution, {"fail"}),
    ("aborted", lambda: healthy(execution=Execution(EXEC_ARN, "ABORTED", SM_ARN)), {"fail"}),
])
def test_sfn001_execution_ended(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("SFN001", build()) == expected


def test_sfn001_names_the_failing_state_error_and_cause() -> None:
    (finding,) = findings("SFN001", failed_execution())
    assert "state StartWave" in finding.detail and "DRS.AccessDenied" in finding.detail
    assert any("drs:StartRecovery" in line for line in finding.evidence)


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("succeeded execution", healthy, {"pass"}),
    ("stuck at UNKNOWN for 40 polls", stuck, {"fail"}),
    ("status moving from PENDING to STARTED", progressing, {"pass"}),
    ("only 3 polls so far", lambda: stuck(history=HistoryWriter().poll("UNKNOWN", 3).history()), {"pass"}),
])
def test_sfn002_polling_loop(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("SFN002", build()) == expected


def polled(*rounds: tuple[str, int], gap: timedelta = timedelta(seconds=30)) -> Snapshot:
    """Polls ending now: each round is the Wait's gap plus 16 seconds of state events."""
    elapsed = sum(times for _, times in rounds) * (gap + timedelta(seconds=16)) + timedelta(seconds=20)
    writer = HistoryWriter(NOW - elapsed).add("ExecutionStarted", input="{}")
    writer.state("BeginPlan", "Task", {}).state("StartWave", "Task", {})
    for status, times in rounds:
        writer.poll(status, times, gap=gap)
    return stuck(history=writer.history())


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("launching for 10 rounds", lambda: polled(("PENDING", 2), ("STARTED", 10)), "pass"),
    ("moving, then UNKNOWN for the last 6 rounds", lambda: polled(("STARTED", 3), ("UNKNOWN", 6)), "fail"),
    ("COMPLETED yet still looping", lambda: polled(("STARTED", 3), ("COMPLETED", 5)), "fail"),
    ("STARTED past the wave timeout", lambda: polled(("STARTED", 60), gap=timedelta(minutes=1)), "fail"),
])
def test_sfn002_which_stuck_statuses_fail(name: str, build: Callable[[], Snapshot], expected: str) -> None:
    assert statuses("SFN002", build()) == {expected}


def test_sfn002_a_finished_status_the_loop_ignores_points_at_the_choice() -> None:
    (finding,) = findings("SFN002", polled(("STARTED", 3), ("COMPLETED", 5)))
    assert "the wave is finished but the loop does not act on it" in finding.detail


def test_sfn002_a_status_that_outlives_its_finished_drs_job_is_stuck() -> None:
    """The poller stopped writing: DRS finished the job long ago, the loop still reads POLLING."""
    snap = polled(("POLLING", 8))
    snap.drs_jobs[0].status, snap.drs_jobs[0].end_time = "COMPLETED", NOW - timedelta(minutes=5)
    (finding,) = findings("SFN002", snap)
    assert finding.status == "fail"
    assert '$.waveStatus has stayed "POLLING"' in finding.detail
    assert "DRS ended the wave's job at" in finding.detail


def test_sfn002_a_status_still_polling_a_running_drs_job_is_not_stuck() -> None:
    assert statuses("SFN002", polled(("POLLING", 8))) == {"pass"}


def test_sfn002_says_which_states_loop_how_often_since_when_and_what_never_changes() -> None:
    (finding,) = findings("SFN002", stuck())
    assert "WaitForWave -> CheckWaveStatus -> WaveDone" in finding.detail
    assert "40 iterations" in finding.detail and "09:55:" in finding.detail
    assert '$.waveStatus has stayed "UNKNOWN" for 40 rounds' in finding.detail
    assert "the poller never learns the wave's status" in finding.detail
    assert finding.shows == ("execution-stuck",)


def test_sfn002_finds_the_loop_from_history_when_the_definition_is_unreadable() -> None:
    snap = stuck(state_machine=StateMachine(SM_ARN, definition="{not json"))
    assert statuses("SFN002", snap) == {"fail"}


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("no failures", healthy, {"pass"}),
    ("retried throttling", retried_tasks, {"fail"}),
    ("access denied", failed_execution, {"fail"}),
])
def test_sfn003_task_errors(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("SFN003", build()) == expected


def test_sfn003_counts_retries_per_state_and_error() -> None:
    (finding,) = findings("SFN003", retried_tasks())
    assert finding.detail == "state StartWave failed with Lambda.TooManyRequestsException 3 times"
    assert finding.resource == f"{EXEC_ARN}#StartWave"


def test_sfn003_flags_a_permission_problem() -> None:
    (finding,) = findings("SFN003", failed_execution())
    assert "permission is missing" in finding.detail


@pytest.mark.parametrize(("name", "events", "expected"), [
    ("small", 38, "pass"),
    ("at 80 percent", 20_500, "warn"),
    ("at the limit", 25_000, "fail"),
])
def test_sfn004_history_limit(name: str, events: int, expected: str) -> None:
    snap = healthy()
    assert snap.history is not None
    snap.history.total_events = events
    assert statuses("SFN004", snap) == {expected}


def test_sfn004_warns_when_a_running_loop_will_reach_the_limit_soon() -> None:
    # 12,000 events in the 2 hours the history spans: 6,000 an hour, 2.2 hours left
    events = [HistoryEvent(12_000, "WaitStateEntered", NOW),
              HistoryEvent(1, "ExecutionStarted", NOW - timedelta(hours=2))]
    snap = stuck(history=History(events=events))
    (finding,) = findings("SFN004", snap)
    assert finding.status == "warn" and "2.2 hours" in finding.detail


def test_sfn004_projects_from_the_historys_own_clock_not_ours() -> None:
    events = [HistoryEvent(300, "WaitStateEntered", NOW + timedelta(hours=5)),
              HistoryEvent(1, "ExecutionStarted", NOW + timedelta(hours=4))]  # AWS's clock ahead of ours
    assert statuses("SFN004", stuck(history=History(events=events))) == {"pass"}


def _stack_with(definition: dict) -> Stack:
    template = {"Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "DefinitionString": {"Fn::Sub": json.dumps(definition).replace(
            json.dumps(DEFINITION["States"]["BeginPlan"]["Resource"]), '"${OrchestrationFunction.Arn}"')}}}}}
    return Stack(name="drs-prod", template=json.dumps(template))


def test_sfn005_passes_when_the_deployed_definition_matches_its_template_up_to_arns() -> None:
    snap = healthy(stack=_stack_with(DEFINITION))
    assert [(f.status, f.detail) for f in findings("SFN005", snap)] == [
        ("pass", "the definition matches its stack's template")]


def test_sfn005_fails_when_a_choice_rule_drifted_from_the_template() -> None:
    drifted = copy.deepcopy(DEFINITION)
    drifted["States"]["WaveDone"]["Choices"][0]["StringEquals"] = "Completed"
    snap = healthy(stack=_stack_with(DEFINITION))
    assert snap.state_machine is not None
    snap.state_machine.definition = json.dumps(drifted)
    (finding,) = findings("SFN005", snap)
    assert finding.status == "fail" and "WaveDone" in " ".join(finding.evidence)
    # the fix puts the template's definition back, with the deployed ARN where the template has ${...}
    assert finding.layer == "cause" and finding.remedy is not None and "drs-prod" in finding.remedy.note
    assert finding.remediation.startswith("aws stepfunctions update-state-machine --state-machine-arn ")
    (written,) = finding.remedy.files
    assert json.loads(written.content) == DEFINITION


def test_sfn005_compares_with_the_reference_when_it_has_the_reference_states() -> None:
    from drsdoctor.checks.sfn_definition_drift import _reference_definition

    reference = _reference_definition()
    assert reference is not None, "the reference template ships in the package"
    drifted = copy.deepcopy(reference)
    drifted["States"].popitem()
    snap = healthy(state_machine=StateMachine(SM_ARN, definition=json.dumps(drifted)))
    (finding,) = findings("SFN005", snap)
    assert finding.status == "fail" and "reference" in finding.detail
    same = healthy(state_machine=StateMachine(SM_ARN, definition=json.dumps(reference)))
    assert [f.status for f in findings("SFN005", same)] == ["pass"]


def test_sfn005_an_unreadable_stack_template_is_an_error_yet_the_reference_still_compares() -> None:
    from drsdoctor.checks.sfn_definition_drift import _reference_definition

    from drsdoctor.snapshot import FactError

    reference = _reference_definition()
    assert reference is not None, "the reference template ships in the package"
    snap = healthy(state_machine=StateMachine(SM_ARN, definition=json.dumps(reference)),
                   stack=Stack(name="drs-prod"), fact_errors=[FactError(
                       "stack", "cloudformation:GetTemplate", "AccessDenied", "drs-prod",
                       permission="cloudformation:GetTemplate")])
    result = sorted((f.status, f.detail) for f in findings("SFN005", snap))
    assert [status for status, _ in result] == ["error", "pass"]
    assert "cloudformation:GetTemplate" in result[0][1]
