"""The reference orchestrator at DRS's limits: 200 servers a StartRecovery, 500 in all active jobs, a full
wave's record under DynamoDB's 400 KB item limit, one failing server among 200 named."""

from __future__ import annotations

import pytest

from drsdoctor.reference import limits, records
from drsdoctor.reference.functions import drs_calls, execution_poller, orchestration
from drsdoctor.sandbox.drs.model import MAX_SERVERS_PER_JOB, Phases, Quotas

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:drs-orchestrator-dev-recovery:run-1"
JOB_SECONDS = Phases().pending + Phases().snapshot + Phases().conversion + Phases().launch


def test_the_limits_agree_with_the_function_code_and_the_simulator():
    assert drs_calls.MAX_SERVERS_PER_CALL == limits.MAX_SERVERS_PER_START_RECOVERY == MAX_SERVERS_PER_JOB
    assert drs_calls.MAX_JOB_IDS_PER_CALL == limits.MAX_JOB_IDS_PER_DESCRIBE
    assert drs_calls.MAX_SERVERS_IN_ALL_JOBS == limits.MAX_SERVERS_IN_ALL_JOBS == Quotas().servers_in_all_jobs
    assert Quotas().concurrent_jobs == limits.MAX_CONCURRENT_JOBS


def test_a_wave_larger_than_drs_runs_at_once_is_refused_with_the_fix():
    servers = [f"s-{n:017x}" for n in range(limits.MAX_SERVERS_IN_ALL_JOBS + 1)]
    plan = records.recovery_plan("plan-big", "big", [("all at once", ["pg-all"])])
    groups = {"pg-all": records.protection_group("pg-all", "all", servers)}

    with pytest.raises(orchestration.PlanInvalid, match=r"501 source servers.*at most 500.*split the wave"):
        orchestration.build_waves(plan, groups)
    groups["pg-all"]["sourceServerIds"] = servers[:-1]
    assert len(orchestration.build_waves(plan, groups)[0]["sourceServerIds"]) == 500


@pytest.mark.parametrize(("item", "size"), [
    ({"a": "bc"}, 3),
    ({"n": 12345}, 1 + 1 + 3),
    ({"ids": ["ab", "cd"]}, 3 + 3 + 3 + 3),
    ({"m": {"k": True}}, 1 + 3 + 1 + 1 + 1),
])
def test_item_size_counts_as_dynamodb_does(item, size):
    assert limits.item_size(item) == size


def test_the_largest_execution_record_fits_in_one_dynamodb_item():
    """Ten waves of 500 servers, every finished wave with its recovery instances, the failed one with every
    reason at its cap: the record the orchestrator and poller can write at their largest."""
    waves = []
    for number in range(1, limits.MAX_WAVES + 1):
        servers = [f"s-{number:03d}{n:014x}" for n in range(limits.MAX_SERVERS_IN_ALL_JOBS)]
        jobs = [f"drsjob-{number:03d}{n:014x}" for n in range(3)]
        wave = records.wave(number, f"wave-{number}", servers, "COMPLETED", jobs, "2026-01-01T00:00:00Z",
                            protection_group_ids=[f"pg-{number}"])
        instances = {server: f"i-{n:017x}" for n, server in enumerate(servers)}
        wave.update(polledAt="2026-01-01T00:00:00Z", claimedAt=1_767_225_600, claimToken="f" * 32,
                    statusDetail="d" * 1000, recoveryInstances=instances)
        waves.append(wave)
    failed = waves[-1]
    failed.pop("recoveryInstances")
    failed.update(status="FAILED", failureReasons=["r" * 1000] * execution_poller.MAX_REASONS)
    record = records.execution_record(EXECUTION, "p" * 64, waves, status="FAILED",
                                      current_wave=limits.MAX_WAVES - 1, plan_name="n" * 128)
    record.update(statusReason="y" * 1000, finishedAt="2026-01-01T01:00:00Z", version=10_000)

    assert limits.item_size(record) < limits.DYNAMODB_ITEM_LIMIT


def test_a_start_that_finds_drs_quota_full_is_retried_by_step_functions_then_starts(stack, drs, started_wave):
    # another plan's 400 servers are launching: 200 more would pass the 500 in all active jobs
    others = drs.servers(400, prefix="other")
    for batch in drs_calls.chunks(others):
        drs.model.start_recovery(batch)

    with pytest.raises(orchestration.DrsThrottled, match="quota"):
        started_wave((200,))
    wave = stack.record(EXECUTION)["waves"][0]
    assert wave["jobIds"] == [] and wave["claimedAt"] == 0  # released: the retry need not wait out the lease

    drs.clock.advance(JOB_SECONDS + 1)  # the other plan's jobs end
    retried = stack.orchestrate("start_wave", executionId=EXECUTION, waveIndex=0)
    assert len(retried["jobIds"]) == 1
    assert stack.record(EXECUTION)["status"] == "POLLING"


def test_one_server_failing_among_200_fails_the_wave_and_is_named(stack, drs, started_wave):
    execution_id = started_wave((200,))
    servers = stack.record(execution_id)["waves"][0]["sourceServerIds"]
    failing = servers[137]
    drs.model.set_outcome(failing, "FAILED", "Instance launch failed: InsufficientInstanceCapacity")
    drs.clock.advance(JOB_SECONDS)

    assert stack.poll(execution_id)["waveStatus"] == "FAILED"
    record = stack.record(execution_id)
    reasons = record["waves"][0]["failureReasons"]
    assert [reason for reason in reasons if reason.startswith("s-")] == [
        f"{failing}: LAUNCH_FAILED: Instance launch failed: InsufficientInstanceCapacity"]
    assert failing in record["statusReason"]
    assert drs.calls["DescribeJobLogItems"] == 2  # the job's ~1,400 log items in pages, never per server
