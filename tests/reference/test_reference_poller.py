"""The execution-poller: the wave status it writes for each thing DRS can say (or refuse to say)."""

from __future__ import annotations

import json

import pytest

from drsdoctor.reference.functions import execution_poller
from drsdoctor.sandbox.drs.model import Phases

JOB_SECONDS = Phases().pending + Phases().snapshot + Phases().conversion + Phases().launch


def log_lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_a_wave_moves_from_polling_through_launching_to_completed(stack, drs, started_wave):
    execution_id = started_wave((2, 1))
    seen = [stack.poll(execution_id)["waveStatus"]]
    drs.clock.advance(Phases().pending + 1)
    seen.append(stack.poll(execution_id)["waveStatus"])
    drs.clock.advance(JOB_SECONDS)
    seen.append(stack.poll(execution_id)["waveStatus"])

    assert seen == ["POLLING", "LAUNCHING", "COMPLETED"]
    record = stack.record(execution_id)
    assert record["status"] == "RUNNING"  # between waves: the finder stops polling it
    wave = record["waves"][0]
    assert wave["status"] == "COMPLETED"
    assert set(wave["recoveryInstances"]) == set(wave["sourceServerIds"])
    assert all(instance.startswith("i-") for instance in wave["recoveryInstances"].values())


def test_a_server_that_fails_to_launch_fails_the_wave_with_drs_reasons(stack, drs, started_wave):
    execution_id = started_wave((2,))
    failing = stack.record(execution_id)["waves"][0]["sourceServerIds"][1]
    drs.model.set_outcome(failing, "FAILED", "Instance launch failed: InsufficientInstanceCapacity")
    drs.clock.advance(JOB_SECONDS)

    result = stack.poll(execution_id)

    assert result["waveStatus"] == "FAILED"
    record = stack.record(execution_id)
    assert record["status"] == "FAILED"
    reasons = record["waves"][0]["failureReasons"]
    assert any(failing in reason and "InsufficientInstanceCapacity" in reason for reason in reasons)


def test_a_missing_follow_on_permission_fails_every_server_and_says_so(stack, drs, started_wave):
    # DRS launches as the caller: the job is accepted, then every server fails
    drs.denied.add("ec2:RunInstances")
    execution_id = started_wave((2,))
    drs.clock.advance(JOB_SECONDS)

    assert stack.poll(execution_id)["waveStatus"] == "FAILED"
    wave = stack.record(execution_id)["waves"][0]
    for server in wave["sourceServerIds"]:
        assert any(reason.startswith(server) and "FAILED" in reason for reason in wave["failureReasons"])


def test_access_denied_on_the_job_writes_unknown_and_logs_the_code(stack, drs, started_wave, capsys):
    execution_id = started_wave((1,))
    drs.denied.add("drs:DescribeJobs")
    capsys.readouterr()

    result = stack.poll(execution_id)

    assert result["waveStatus"] == "UNKNOWN"
    record = stack.record(execution_id)
    # still in flight: it keeps being polled until someone fixes the role
    assert record["status"] == "POLLING"
    assert record["waves"][0]["status"] == "UNKNOWN"
    assert "AccessDeniedException" in record["waves"][0]["statusDetail"]
    errors = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert errors and errors[0]["errorCode"] == "AccessDeniedException"
    assert errors[0]["executionId"] == execution_id


def test_unreadable_job_logs_still_give_the_status_and_log_the_code(stack, drs, started_wave, capsys):
    execution_id = started_wave((1,))
    failing = stack.record(execution_id)["waves"][0]["sourceServerIds"][0]
    drs.model.set_outcome(failing, "FAILED", "boot disk too large")
    drs.denied.add("drs:DescribeJobLogItems")
    drs.clock.advance(JOB_SECONDS)
    capsys.readouterr()

    assert stack.poll(execution_id)["waveStatus"] == "FAILED"
    reasons = stack.record(execution_id)["waves"][0]["failureReasons"]
    assert reasons == [f"{failing}: launchStatus FAILED"]  # DRS's own words are in the log it could not read
    errors = [line for line in log_lines(capsys.readouterr().out) if line["level"] == "ERROR"]
    assert errors[0]["errorCode"] == "AccessDeniedException"


def test_a_throttled_poll_is_retried_and_succeeds(stack, drs, started_wave):
    execution_id = started_wave((1,))
    drs.clock.advance(JOB_SECONDS)
    drs.throttle_next["DescribeJobs"] = 2

    assert stack.poll(execution_id)["waveStatus"] == "COMPLETED"
    assert drs.calls["DescribeJobs"] == 3
    assert len(drs.backoffs) == 2 and all(seconds > 0 for seconds in drs.backoffs)


def test_a_poll_throttled_past_retries_keeps_the_last_status(stack, drs, started_wave, monkeypatch):
    execution_id = started_wave((1,))
    before = stack.record(execution_id)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    drs.throttle_next["DescribeJobs"] = 100

    result = stack.poll(execution_id)

    assert result["waveStatus"] == "POLLING"
    assert stack.record(execution_id) == before  # nothing written: the next finder run asks again


def test_a_job_drs_does_not_know_is_unknown(stack, drs, started_wave):
    execution_id = started_wave((1,))
    stack.table("ExecutionHistoryTableName").update_item(
        Key={"executionId": execution_id}, UpdateExpression="SET waves[0].jobIds = :jobs",
        ExpressionAttributeValues={":jobs": ["drsjob-00000000000000000"]})

    assert stack.poll(execution_id)["waveStatus"] == "UNKNOWN"
    assert "drsjob-00000000000000000" in stack.record(execution_id)["waves"][0]["statusDetail"]


def test_the_poller_ignores_executions_that_are_not_polling(stack, drs, started_wave):
    execution_id = started_wave((1,))
    stack.orchestrate("fail_plan", executionId=execution_id, reason="operator stopped it")
    before = stack.record(execution_id)

    assert stack.poll(execution_id)["waveStatus"] is None
    assert stack.record(execution_id) == before


def job(status, *servers, job_id="drsjob-1"):
    return {job_id: {"jobID": job_id, "status": status,
                     "participatingServers": [{"sourceServerID": sid, "launchStatus": launch}
                                              for sid, launch in servers]}}


def failed_log(sid, event, error):
    return {"drsjob-1": [{"event": "JOB_START"},
                         {"event": event, "eventData": {"sourceServerID": sid, "rawError": error}}]}


@pytest.mark.parametrize(("jobs", "logs", "expected", "outcome"), [
    (job("PENDING", ("s-a", "PENDING")), {}, ["s-a"], ("POLLING", [])),
    (job("STARTED", ("s-a", "PENDING")), {}, ["s-a"], ("LAUNCHING", [])),
    (job("STARTED", ("s-a", "LAUNCHED"), ("s-b", "IN_PROGRESS")), {}, ["s-a", "s-b"], ("LAUNCHING", [])),
    (job("COMPLETED", ("s-a", "LAUNCHED"), ("s-b", "LAUNCHED")), {}, ["s-a", "s-b"], ("COMPLETED", [])),
    (job("STARTED", ("s-a", "LAUNCHED"), ("s-b", "FAILED")),
     failed_log("s-b", "LAUNCH_FAILED", "no capacity"), ["s-a", "s-b"],
     ("FAILED", ["s-b: LAUNCH_FAILED: no capacity"])),
    (job("COMPLETED", ("s-a", "FAILED")), {}, ["s-a"], ("FAILED", ["s-a: launchStatus FAILED"])),
    (job("COMPLETED", ("s-a", "PENDING")), {}, ["s-a"],
     ("FAILED", ["s-a: launchStatus PENDING at the job's end"])),
    (job("COMPLETED", ("s-a", "LAUNCHED")), failed_log("s-b", "SERVER_SKIPPED", None), ["s-a", "s-b"],
     ("FAILED", ["s-b: SERVER_SKIPPED: no error text"])),
    (job("COMPLETED", ("s-a", "LAUNCHED")), {}, ["s-a", "s-b"], ("FAILED", ["s-b: not in the wave's jobs"])),
    ({**job("COMPLETED", ("s-a", "LAUNCHED")), **job("STARTED", ("s-b", "IN_PROGRESS"), job_id="drsjob-2")},
     {}, ["s-a", "s-b"], ("LAUNCHING", [])),
], ids=["pending", "started", "launching", "completed", "launch-failed", "failed-without-log",
        "ended-unlaunched", "skipped-logged", "skipped-silently", "one-of-two-jobs-running"])
def test_the_wave_status_follows_what_drs_says(jobs, logs, expected, outcome):
    assert execution_poller.wave_outcome(jobs, logs, expected) == outcome
