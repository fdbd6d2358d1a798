"""The template's state machine run for real (moto's Step Functions engine) with the functions' own code."""

from __future__ import annotations

import pytest
from reference_harness import (
    create_state_machine,
    events_by_state,
    history,
    run_execution,
    running_functions,
    state_entries,
)

from drsdoctor import reference
from drsdoctor.reference import limits
from drsdoctor.reference.functions import orchestration
from drsdoctor.sandbox.drs.model import Phases

# Short waits and timeout so a stuck wave times out after a handful of reads.
REFERENCE_PARAMETERS = {"PollIntervalSeconds": "10", "MaxPollIntervalSeconds": "60",
                        "WaveTimeoutMinutes": "5"}
# Jobs that take under a minute, so each wave needs few reads.
DRS_PHASES = Phases(pending=1, cleanup=5, snapshot=10, conversion=20, launch=10)
LOOP_STATES = ("WaitForWave", "ReadWaveStatus", "CheckWaveStatus")
WAVE_STATES = ("StartWave", "NextWave")


@pytest.fixture(scope="module")
def histories():
    """Histories of the runs below, kept for the history-limit test (a run costs seconds)."""
    return {}


@pytest.fixture
def machine(stack, drs, monkeypatch):
    with running_functions(stack, drs, monkeypatch) as runner:
        yield create_state_machine(stack), runner


def run_healthy_plan(stack, drs, state_machine):
    stack.seed_plan("plan-1", [drs.servers(2, "db"), drs.servers(2, "app"), drs.servers(1, "web")])
    return run_execution(state_machine, "plan-1")


def run_stuck_plan(stack, drs, state_machine):
    stack.seed_plan("plan-1", [drs.servers(1)])
    drs.denied.add("drs:DescribeJobs")  # the poller's role lost a permission: the wave stays UNKNOWN
    return run_execution(state_machine, "plan-1")


def test_a_three_wave_plan_runs_to_success(stack, drs, machine, histories):
    state_machine, runner = machine

    execution = run_healthy_plan(stack, drs, state_machine)
    histories["healthy"] = history(execution["executionArn"])

    assert execution["status"] == "SUCCEEDED"
    record = stack.record(execution["executionArn"])
    assert record["status"] == "COMPLETED"
    assert [wave["status"] for wave in record["waves"]] == ["COMPLETED"] * 3
    jobs = drs.jobs()
    assert len(jobs) == 3 and all(job["status"] == "COMPLETED" for job in jobs)
    # each wave started only after the previous one's job had ended
    ends = sorted((job["creationDateTime"], job.get("endDateTime")) for job in jobs)
    assert all(ends[n][1] <= ends[n + 1][0] for n in range(2))
    poller = stack.outputs["ExecutionPollerFunctionName"]
    pollers = [kind for name, kind, _ in runner.invocations if name == poller]
    assert pollers and set(pollers) == {"Event"}


def test_a_failed_server_fails_the_execution_with_the_reason(stack, drs, machine):
    state_machine, _ = machine
    web = drs.servers(1, "web")
    stack.seed_plan("plan-1", [drs.servers(1, "db"), web])
    drs.model.set_outcome(web[0], "FAILED", "LAUNCH_FAILED: subnet has no free addresses")

    execution = run_execution(state_machine, "plan-1")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "WaveFailed"
    record = stack.record(execution["executionArn"])
    assert record["status"] == "FAILED"
    assert "subnet has no free addresses" in record["statusReason"]
    assert [wave["status"] for wave in record["waves"]] == ["COMPLETED", "FAILED"]


def test_an_unreadable_wave_loops_until_the_timeout_then_fails(stack, drs, machine, histories):
    state_machine, _ = machine

    execution = run_stuck_plan(stack, drs, state_machine)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "WaveTimedOut"
    events = histories["stuck"] = history(execution["executionArn"])
    assert state_entries(events, "ReadWaveStatus") == limits.max_wave_reads(10, 60, 5)
    record = stack.record(execution["executionArn"])
    assert record["waves"][0]["status"] == "UNKNOWN"
    assert record["status"] == "FAILED" and "timed out" in record["statusReason"]


def test_a_start_throttled_past_the_clients_retries_is_retried_by_the_state_machine(stack, drs, machine,
                                                                                   monkeypatch):
    state_machine, runner = machine
    stack.seed_plan("plan-1", [drs.servers(2)])
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # the client gives up at once: the state's Retry takes over
    drs.throttle_next["StartRecovery"] = 2

    execution = run_execution(state_machine, "plan-1")

    assert execution["status"] == "SUCCEEDED"
    assert runner.retry_pauses[:2] == [15, 30]  # StartWave's Retry on DrsThrottled, with its backoff
    assert drs.calls["StartRecovery"] == 3
    assert len(drs.jobs()) == 1  # each retry took the released claim over and started the wave once


def test_a_missing_plan_fails_the_execution_and_names_the_plan(stack, machine):
    state_machine, _ = machine

    execution = run_execution(state_machine, "plan-nowhere")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "PlanFailed"
    failures = [event["lambdaFunctionFailedEventDetails"] for event in history(execution["executionArn"])
                if "lambdaFunctionFailedEventDetails" in event]
    assert failures[0]["error"] == "PlanNotFound" and "plan-nowhere" in failures[0]["cause"]


def test_no_execution_can_reach_the_history_limit(stack, drs, machine, histories):
    """Events per loop iteration and per wave, measured on real histories, times the most allowed."""
    state_machine, _ = machine
    if "healthy" not in histories:  # run alone: make the histories the tests above would have kept
        histories["healthy"] = history(run_healthy_plan(stack, drs, state_machine)["executionArn"])
    if "stuck" not in histories:
        histories["stuck"] = history(run_stuck_plan(stack, drs, state_machine)["executionArn"])
    healthy, stuck = histories["healthy"], histories["stuck"]

    per_read = per_wave = per_execution = 0
    for events in (healthy, stuck):
        counts = events_by_state(events)
        reads, waves = state_entries(events, "ReadWaveStatus"), state_entries(events, "StartWave")
        loop = sum(counts.get(state, 0) for state in LOOP_STATES)
        assert loop % reads == 0  # every iteration costs the same
        per_read = max(per_read, loop // reads)
        per_wave = max(per_wave, -(-sum(counts.get(state, 0) for state in WAVE_STATES) // waves))
        per_execution = max(per_execution, len(events) - loop - sum(counts.get(s, 0) for s in WAVE_STATES))

    worst = limits.worst_case_parameters(reference.template())
    bound = limits.max_history_events(per_read, per_wave, per_execution, **worst)

    assert per_read == 9
    assert bound < limits.HISTORY_EVENT_LIMIT, (bound, worst)
    assert limits.MAX_WAVES == orchestration.MAX_WAVES
    # the bound's model of the waits is the function's own backoff
    waits = limits.wave_waits(worst["poll_interval"], worst["max_poll_interval"])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLL_INTERVAL_SECONDS", str(worst["poll_interval"]))
        env.setenv("MAX_POLL_INTERVAL_SECONDS", str(worst["max_poll_interval"]))
        assert [next(waits) for _ in range(40)] == [orchestration.wait_seconds(n) for n in range(40)]
