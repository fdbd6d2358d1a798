"""The execution record: the orchestration function and the poller never lose each other's updates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session

from drsdoctor.reference import records
from drsdoctor.reference.functions import execution_poller, orchestration

DRS_SERVER_ID = botocore.session.get_session().get_service_model("drs").shape_for(
    "SourceServerID").metadata["pattern"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


def test_a_poller_write_between_a_read_and_an_answer_is_kept(stack, drs, started_wave, monkeypatch):
    execution_id = started_wave((1, 1))
    drs.clock.advance(600)
    stale = stack.record(execution_id)  # what the orchestration function read before the poller wrote

    def orchestration_reads_the_stale_record(_execution_id):
        return orchestration.plain(stale)

    # the poller writes wave 1 COMPLETED while the orchestration function is mid-call
    stack.poll(execution_id)
    monkeypatch.setattr(orchestration, "load_execution", orchestration_reads_the_stale_record)
    status = stack.orchestrate("wave_status", executionId=execution_id, waveIndex=0, attempt=0)
    monkeypatch.undo()

    record = stack.record(execution_id)
    assert status["waveStatus"] == "POLLING"  # it answered from what it had read...
    assert record["waves"][0]["status"] == "COMPLETED"  # ...and wrote nothing over the poller's update
    assert record["waves"][0]["jobIds"] == stale["waves"][0]["jobIds"]
    assert record["version"] > stale["version"]


def test_interleaved_poller_and_orchestration_writes_keep_each_others_fields(stack, drs, started_wave):
    execution_id = started_wave((1, 1))
    drs.clock.advance(600)
    stack.poll(execution_id)  # poller: wave 1 COMPLETED, its recovery instances, the execution RUNNING
    polled = stack.record(execution_id)["waves"][0]

    stack.orchestrate("start_wave", executionId=execution_id, waveIndex=1)  # orchestration: wave 2 claimed
    stack.poll(execution_id)  # poller again, now on wave 2
    stack.orchestrate("wave_status", executionId=execution_id, waveIndex=1, attempt=0)

    record = stack.record(execution_id)
    first, second = record["waves"]
    assert {key: first[key] for key in polled} == polled  # nothing of the poller's wave 1 write was lost
    assert second["jobIds"] and second["claimToken"] and second["startedAt"]  # the orchestration's fields
    assert second["polledAt"] and second["status"] in ("POLLING", "LAUNCHING")  # and the poller's
    assert record["currentWave"] == 1 and record["status"] == "POLLING"
    # every write bumped the version once: begin, then claim + job + started per wave, then two polls
    assert record["version"] == 1 + 3 * 2 + 2


def test_a_late_poller_cannot_overwrite_a_finished_execution(stack, drs, started_wave):
    execution_id = started_wave((1,))
    drs.clock.advance(600)
    stack.orchestrate("fail_plan", executionId=execution_id, reason="wave timed out")

    assert execution_poller.write_wave(execution_id, 0, "COMPLETED", [], "late") is False
    record = stack.record(execution_id)
    assert record["status"] == "FAILED"
    assert record["statusReason"] == "wave timed out"
    assert record["waves"][0]["status"] == "POLLING"


def test_the_orchestration_function_keeps_the_pollers_failure_reason(stack, drs, started_wave):
    execution_id = started_wave((1,))
    failing = stack.record(execution_id)["waves"][0]["sourceServerIds"][0]
    drs.model.set_outcome(failing, "FAILED", "disk conversion failed")
    drs.clock.advance(600)
    stack.poll(execution_id)

    stack.orchestrate("fail_plan", executionId=execution_id, reason="wave failed", waveNumber=1,
                      failureReasons=["from the state machine"])

    record = stack.record(execution_id)
    assert record["status"] == "FAILED"
    assert "disk conversion failed" in record["statusReason"]
    assert any("disk conversion failed" in reason for reason in record["waves"][0]["failureReasons"])


def test_complete_plan_refuses_an_execution_that_failed(stack, drs, started_wave):
    execution_id = started_wave((1,))
    stack.orchestrate("fail_plan", executionId=execution_id, reason="stopped")

    try:
        stack.orchestrate("complete_plan", executionId=execution_id)
    except orchestration.ExecutionNotRunning:
        pass
    else:
        raise AssertionError("a failed execution was completed")
    assert stack.record(execution_id)["status"] == "FAILED"


def test_the_example_plan_files_are_the_builders_items():
    def items(folder):
        return {path.stem: json.loads(path.read_text()) for path in (EXAMPLES / folder).glob("*.json")}

    groups, plans = items("protection-groups"), items("recovery-plans")

    assert groups == {group["groupId"]: records.to_dynamodb_json(group) for group in records.sample_groups()}
    assert plans == {records.sample_plan()["planId"]: records.to_dynamodb_json(records.sample_plan())}
    servers = [server for group in records.sample_groups() for server in group["sourceServerIds"]]
    assert len(servers) == len(set(servers)) == 6
    assert all(re.fullmatch(DRS_SERVER_ID, server) for server in servers)
    assert [wave["name"] for wave in records.sample_plan()["waves"]] == ["database", "app", "web"]


def test_the_example_plan_runs_as_three_waves(stack):
    for group in records.sample_groups():
        stack.table("ProtectionGroupsTableName").put_item(Item=group)
    stack.table("RecoveryPlansTableName").put_item(Item=records.sample_plan())

    begun = stack.orchestrate("begin_plan", executionId="arn:aws:states:us-east-1:123456789012:execution:x:y",
                              planId="plan-three-tier")

    assert begun["waveCount"] == 3
    waves = stack.record(begun["executionId"])["waves"]
    assert [wave["sourceServerIds"] for wave in waves] == list(records.SAMPLE_SERVERS.values())
