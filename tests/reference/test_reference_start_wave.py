"""Starting a wave: idempotent under retries, batched at 200 servers, patient with a throttling DRS."""

from __future__ import annotations

import pytest

from drsdoctor.reference.functions import orchestration

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:drs-orchestrator-dev-recovery:run-1"


def test_a_retried_wave_start_never_starts_a_second_drs_job(stack, drs, started_wave):
    execution_id = started_wave((3,))
    first = stack.record(execution_id)["waves"][0]["jobIds"]

    again = stack.orchestrate("start_wave", executionId=execution_id, waveIndex=0)

    assert len(drs.jobs()) == 1
    assert again["jobIds"] == first == [drs.jobs()[0]["jobID"]]
    assert drs.calls["StartRecovery"] == 1


def test_a_start_interrupted_after_drs_accepted_the_job_resumes_without_a_second_job(stack, drs, monkeypatch):
    stack.seed_plan("plan-1", [drs.servers(2)])
    stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-1")
    real_record_job = orchestration.record_job

    def crash_before_recording(*args, **kwargs):
        raise TimeoutError("the function timed out right after StartRecovery returned")

    monkeypatch.setattr(orchestration, "record_job", crash_before_recording)
    with pytest.raises(TimeoutError):
        stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)
    monkeypatch.setattr(orchestration, "record_job", real_record_job)

    with pytest.raises(orchestration.WaveStartInProgress):  # the claim is still fresh: Step Functions retries
        stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)
    drs.clock.advance(orchestration.CLAIM_LEASE_SECONDS + 1)
    resumed = stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)

    assert len(drs.jobs()) == 1
    assert resumed["jobIds"] == [drs.jobs()[0]["jobID"]]
    assert stack.record(EXECUTION)["status"] == "POLLING"


def test_450_servers_start_in_three_calls_of_at_most_200(stack, drs, started_wave):
    execution_id = started_wave((450,))

    jobs = drs.jobs()
    sizes = sorted((len(job["participatingServers"]) for job in jobs), reverse=True)
    assert drs.calls["StartRecovery"] == 3
    assert sizes == [200, 200, 50]
    wave = stack.record(execution_id)["waves"][0]
    assert sorted(wave["jobIds"]) == sorted(job["jobID"] for job in jobs)
    started = {server["sourceServerID"] for job in jobs for server in job["participatingServers"]}
    assert started == set(wave["sourceServerIds"])


def test_a_throttled_start_is_retried_and_succeeds(stack, drs, started_wave):
    drs.throttle_next["StartRecovery"] = 2

    execution_id = started_wave((2,))

    assert drs.calls["StartRecovery"] == 3
    assert len(drs.backoffs) == 2  # botocore backed off before each retry
    assert len(drs.jobs()) == 1
    assert stack.record(execution_id)["waves"][0]["status"] == "POLLING"


def test_a_start_throttled_past_retries_raises_the_error_step_functions_retries(stack, drs, monkeypatch):
    stack.seed_plan("plan-1", [drs.servers(1)])
    stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # the SDK's own knob, so giving up takes one retry
    drs.throttle_next["DescribeSourceServers"] = 100

    with pytest.raises(orchestration.DrsThrottled):
        stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)
    assert drs.calls["DescribeSourceServers"] == 2
    assert drs.jobs() == []


def test_a_wave_does_not_start_before_the_previous_one_completed(stack, drs, started_wave):
    execution_id = started_wave((1, 1))

    with pytest.raises(orchestration.ExecutionNotRunning):
        stack.orchestrate("start_wave", executionId=execution_id, waveIndex=1)
    assert len(drs.jobs()) == 1


def test_a_server_drs_does_not_know_fails_the_wave_before_anything_starts(stack, drs):
    stack.seed_plan("plan-1", [[*drs.servers(1), "s-00000000000000000"]])
    stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-1")

    with pytest.raises(orchestration.PlanInvalid, match="s-00000000000000000"):
        stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)
    assert drs.jobs() == []


def test_begin_plan_twice_keeps_the_first_record(stack, drs):
    stack.seed_plan("plan-1", [drs.servers(1), drs.servers(1)])
    first = stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-1")
    stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)

    second = stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-1")

    assert first == second == {"executionId": EXECUTION, "planId": "plan-1", "waveIndex": 0, "waveCount": 2}
    assert stack.record(EXECUTION)["waves"][0]["status"] == "POLLING"


@pytest.mark.parametrize(("waves", "error"), [
    ([], "has no waves"),
    ([[]], "has no source servers"),
    ([["s-0a1b2c3d4e5f60001"], ["s-0a1b2c3d4e5f60001"]], "is in wave 1 and wave 2"),
    ([[f"s-0a1b2c3d4e5f6{n:04d}"] for n in range(11)], "at most 10"),
])
def test_a_plan_that_cannot_run_is_refused_up_front(stack, waves, error):
    stack.seed_plan("plan-1", waves)

    with pytest.raises(orchestration.PlanInvalid, match=error):
        stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-1")


def test_a_missing_plan_is_named(stack):
    with pytest.raises(orchestration.PlanNotFound, match="plan-nowhere"):
        stack.orchestrate("begin_plan", executionId=EXECUTION, planId="plan-nowhere")


@pytest.mark.parametrize(("attempt", "expected"), [(0, 10), (1, 20), (2, 40), (3, 60), (10, 60), (500, 60)])
def test_wave_status_backs_off_up_to_the_cap(monkeypatch, attempt, expected):
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "10")
    monkeypatch.setenv("MAX_POLL_INTERVAL_SECONDS", "60")
    assert orchestration.wait_seconds(attempt) == expected
