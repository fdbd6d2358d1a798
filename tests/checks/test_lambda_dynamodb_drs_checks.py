"""Lambda, DynamoDB and DRS checks: tables named in environments, function health, the record, the jobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from builders import EXEC_ARN, NOW, SM_ARN, Snapshot, findings, fn_arn, healthy, run, statuses, stuck

from drsdoctor.snapshot import DrsJob, HistoryEvent, JobLogItem, JobServer, Table, WaveRecord


def poller_env(**changes: str) -> Snapshot:
    snap = healthy()
    poller = snap.function_of_kind("poller")
    assert poller is not None
    poller.environment.update(changes)
    return snap


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("every table exists", healthy, {"pass"}),
    ("poller names a table that does not exist",
     lambda: poller_env(EXECUTION_TABLE="drs-execution-history-stg"), {"pass", "fail"}),
    ("table given as an ARN", lambda: poller_env(
        HISTORY_ARN="arn:aws:dynamodb:us-east-1:123456789012:table/drs-execution-history-prod"), {"pass"}),
    ("no functions", lambda: healthy(functions=[]), {"skip"}),
])
def test_lmb001_env_tables(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("LMB001", build()) == expected


def test_lmb001_suggests_the_near_miss_and_writes_the_full_environment_back() -> None:
    snap = poller_env(EXECUTION_TABLE="drs-execution-history-dev")
    snap.region_table_names.remove("drs-execution-history-dev")
    failing = [f for f in findings("LMB001", snap) if f.status == "fail"]
    assert [f.resource for f in failing] == [fn_arn("drs-execution-poller") + "#EXECUTION_TABLE"]
    assert "did you mean drs-execution-history-prod?" in failing[0].detail
    environment = json.loads(failing[0].remediation.split("--environment ")[1].strip("'"))
    assert environment == {"Variables": {"EXECUTION_TABLE": "drs-execution-history-prod",
                                         "DRS_REGION": "us-east-1"}}
    assert "poller-failing" in failing[0].explains


def test_lmb001_a_table_described_as_missing_fails_even_if_listed() -> None:
    snap = healthy(tables=[Table("drs-plans-prod", exists=False)])
    assert ("fail", fn_arn("drs-orchestration") + "#PLANS_TABLE") in run("LMB001", snap)


@pytest.mark.parametrize(("state", "update", "expected"), [
    ("Active", "Successful", "pass"),
    ("Failed", "Successful", "fail"),
    ("Active", "Failed", "fail"),
    ("Pending", "InProgress", "warn"),
])
def test_lmb002_function_state(state: str, update: str, expected: str) -> None:
    snap = healthy()
    snap.functions[2].state, snap.functions[2].last_update_status = state, update
    assert dict((r, s) for s, r in run("LMB002", snap))[fn_arn("drs-execution-poller")] == expected


def test_lmb003_reserved_concurrency_zero_means_never_runs() -> None:
    snap = healthy()
    snap.functions[1].reserved_concurrency = 0
    snap.functions[2].reserved_concurrency = 5
    result = dict((r, s) for s, r in run("LMB003", snap))
    assert result[fn_arn("drs-execution-finder")] == "fail"
    assert result[fn_arn("drs-execution-poller")] == "pass"
    (failing,) = [f for f in findings("LMB003", snap) if f.status == "fail"]
    assert failing.remediation == (
        "aws lambda delete-function-concurrency --function-name drs-execution-finder")


def test_lmb004_errors_in_the_pollers_logs_are_a_failing_mechanism() -> None:
    snap = healthy()
    snap.functions[2].recent_errors = [
        "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling DescribeJobs: "
        "not authorized"]
    (failing,) = [f for f in findings("LMB004", snap) if f.status == "fail"]
    assert "permission denied" in failing.detail and failing.shows == ("poller-failing",)
    assert statuses("LMB004", healthy()) == {"pass"}


def test_lmb004_names_the_error_line_of_a_traceback_lambda_logged_as_one_event() -> None:
    snap = healthy()
    snap.functions[2].recent_errors = [
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'poller': No module named 'poller'"
        "\rTraceback (most recent call last):\r  File \"/var/runtime/bootstrap.py\", line 1"]
    (failing,) = [f for f in findings("LMB004", snap) if f.status == "fail"]
    assert failing.detail.endswith("No module named 'poller'") and "\r" not in failing.detail


def orchestration_logged(errors: list[str], failed: bool, complete: bool = True) -> Snapshot:
    """The function the state machine calls logged `errors`; its Task failed in this execution or not."""
    snap = healthy()
    called = snap.function_of_kind("orchestration")
    assert called is not None and snap.history is not None
    called.recent_errors = errors
    if failed:
        snap.history.events.insert(0, HistoryEvent(id=999, type="LambdaFunctionFailed", timestamp=NOW,
                                                   details={"error": "DrsThrottled"}))
    snap.history.complete = complete
    return snap


def healthy_without_history(errors: list[str]) -> Snapshot:
    snap = orchestration_logged(errors, failed=False)
    snap.history = None
    return snap


QUOTA_LINE = ("[ERROR] DrsThrottled: drs:StartRecovery: DRS job quota full, retrying: An error occurred "
              "(ServiceQuotaExceededException)\rTraceback (most recent call last):")


@pytest.mark.parametrize(("name", "build", "expected"), [
    # fifty plans at DRS's job quota: thirty refused runs logged errors in the function all of them call
    ("a called function's errors while no Task of this execution failed are other runs'",
     lambda: orchestration_logged([QUOTA_LINE], failed=False), "skip"),
    ("its own Task failed: the errors are its own", lambda: orchestration_logged([QUOTA_LINE], failed=True),
     "fail"),
    ("a history read in part cannot clear them", lambda: orchestration_logged([QUOTA_LINE], False, False),
     "fail"),
    ("a line that names another execution is that one's", lambda: orchestration_logged(
        ['{"level": "ERROR", "executionId": "' + SM_ARN.replace("stateMachine", "execution") + ':other"}'],
        failed=True), "skip"),
    ("without its history, whose they are cannot be told", lambda: healthy_without_history([QUOTA_LINE]),
     "error"),
    ("a line that names this execution is its own", lambda: orchestration_logged(
        ['{"level": "ERROR", "executionId": "' + EXEC_ARN + '"}'], failed=True), "fail"),
])
def test_lmb004_judges_only_this_execution_s_lines(name: str, build: Callable[[], Snapshot],
                                                   expected: str) -> None:
    snap = build()
    called = snap.function_of_kind("orchestration")
    assert called is not None
    assert dict((r, s) for s, r in run("LMB004", snap))[called.arn] == expected


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("record present", healthy, {"pass"}),
    ("record missing", lambda: healthy(execution_record=None), {"fail"}),
])
def test_ddb001_execution_record(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("DDB001", build()) == expected


def test_ddb001_names_the_table_the_functions_use() -> None:
    (finding,) = findings("DDB001", healthy(execution_record=None))
    assert "drs-execution-history-prod" in finding.detail


def stale(status: str, minutes: int) -> Snapshot:
    snap = stuck()
    assert snap.execution_record is not None
    changed = NOW - timedelta(minutes=minutes)
    snap.execution_record.waves = [WaveRecord(1, status, job_id="drsjob-1", updated_at=changed)]
    return snap


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("completed record", healthy, {"pass"}),
    ("UNKNOWN", lambda: stale("UNKNOWN", 1), {"fail"}),
    ("STARTED, updated a minute ago", lambda: stale("STARTED", 1), {"pass"}),
    ("STARTED, unchanged for 40 minutes", lambda: stale("STARTED", 40), {"fail"}),
    ("no record", lambda: healthy(execution_record=None), {"skip"}),
])
def test_ddb002_wave_status(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("DDB002", build()) == expected


def test_ddb002_counts_poll_intervals_from_the_orchestrations_setting() -> None:
    (finding,) = findings("DDB002", stale("STARTED", 40))
    assert "80 poll intervals of 30s" in finding.detail


def test_ddb003_fails_when_the_finders_index_is_missing_and_suggests_the_near_miss() -> None:
    snap = healthy()
    finder = snap.function_of_kind("finder")
    assert finder is not None
    finder.environment["STATUS_INDEX"] = "StatusIndex"
    (finding,) = findings("DDB003", snap)
    assert finding.status == "fail" and "did you mean status-index?" in finding.detail
    assert '"IndexName":"StatusIndex"' in finding.remediation
    assert statuses("DDB003", healthy()) == {"pass"}


def job(status: str, *launches: str) -> DrsJob:
    servers = [JobServer(f"s-{n}", launch) for n, launch in enumerate(launches)]
    return DrsJob("drsjob-1", status, servers=servers,
                  creation_time=NOW - timedelta(minutes=10))


@pytest.mark.parametrize(("name", "jobs", "expected"), [
    ("all launched", [job("COMPLETED", "LAUNCHED", "LAUNCHED")], {"pass"}),
    ("one failed", [job("COMPLETED", "LAUNCHED", "FAILED")], {"fail"}),
    ("still launching", [job("STARTED", "IN_PROGRESS")], {"pass"}),
])
def test_drs001_job_status(name: str, jobs: list[DrsJob], expected: set[str]) -> None:
    assert statuses("DRS001", healthy(drs_jobs=jobs)) == expected


def test_drs001_no_job_for_a_started_wave() -> None:
    snap = stuck(drs_jobs=[])
    assert snap.execution_record is not None
    snap.execution_record.waves[0].job_id = None
    (finding,) = findings("DRS001", snap)
    assert finding.status == "fail" and finding.shows == ("wave-not-started",)


def test_drs002_reports_failure_events_with_their_reasons() -> None:
    items = [JobLogItem("JOB_START", NOW), JobLogItem("LAUNCH_FAILED", NOW, {
        "sourceServerID": "s-1",
        "rawError": "User is not authorized to perform: drs:CreateRecoveryInstanceForDrs"})]
    (finding,) = findings("DRS002", healthy(job_log_items={"drsjob-1": items}))
    assert finding.status == "fail" and "LAUNCH_FAILED for s-1" in finding.detail
    assert "permission the launch needs is missing" in finding.detail
    assert statuses("DRS002", healthy()) == {"pass"}


@pytest.mark.parametrize(("name", "jobs", "expected"), [
    ("completed and launched", [job("COMPLETED", "LAUNCHED", "FAILED")], {"pass"}),
    ("completed and nothing launched", [job("COMPLETED", "FAILED", "FAILED")], {"fail"}),
    ("not completed yet", [job("STARTED", "PENDING")], {"skip"}),
])
def test_drs003_completed_without_launch(name: str, jobs: list[DrsJob], expected: set[str]) -> None:
    assert statuses("DRS003", healthy(drs_jobs=jobs)) == expected


def test_ddb001_an_empty_read_of_the_table_is_a_missing_record() -> None:
    from drsdoctor.snapshot import ExecutionRecord

    snap = healthy(execution_record=ExecutionRecord(table="drs-execution-history-prod",
                                                    key={"executionId": "exec-1"}))
    (finding,) = findings("DDB001", snap)
    assert finding.status == "fail"
    assert "no record of this execution in drs-execution-history-prod" in finding.detail
    assert statuses("DDB002", snap) == {"skip"}


def test_ddb002_follows_the_orchestrators_current_wave_pointer() -> None:
    snap = stale("STARTED", 1)
    assert snap.execution_record is not None
    snap.execution_record.waves.insert(0, WaveRecord(0, "COMPLETED", updated_at=NOW - timedelta(minutes=30)))
    snap.execution_record.waves.append(WaveRecord(2, "UNKNOWN"))
    snap.execution_record.item = {"currentWave": 2}
    (finding,) = findings("DDB002", snap)
    assert finding.status == "fail" and finding.detail.startswith("wave 2 status is UNKNOWN")


def test_lmb001_a_function_on_another_environments_existing_table_fails() -> None:
    snap = poller_env(EXECUTION_TABLE="drs-execution-history-dev")  # exists, but the others use -prod
    (failing,) = [f for f in findings("LMB001", snap) if f.status == "fail"]
    assert failing.resource == fn_arn("drs-execution-poller") + "#EXECUTION_TABLE"
    assert "while the other functions use drs-execution-history-prod" in failing.detail
    assert '"EXECUTION_TABLE":"drs-execution-history-prod"' in failing.remediation
