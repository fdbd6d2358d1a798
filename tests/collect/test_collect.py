"""The collector against moto: what it finds from nothing but the execution ARN."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import boto3
import pytest

from drsdoctor.collect import collect
from drsdoctor.collect.bundle import REDACTED, redacted
from tests.collect.conftest import HISTORY_TABLE, JOB_ID, World, build_world


def test_finds_every_function_and_names_its_part(world: World) -> None:
    stamp = _log_an_error(world.names["poller"], '{"level": "ERROR", "message": "DescribeJobs denied"}')
    snap = collect(world.execution_arn, world.session())
    kinds = {function.name: function.kind for function in snap.functions}
    assert kinds == {world.names["orchestration"]: "orchestration", world.names["finder"]: "finder",
                     world.names["poller"]: "poller"}
    [poller] = [function for function in snap.functions if function.kind == "poller"]
    assert poller.recent_errors == ['{"level": "ERROR", "message": "DescribeJobs denied"}']
    assert poller.error_times == [stamp]  # each error line with when it was logged (the timeline's)


def _log_an_error(function: str, line: str) -> datetime:
    """One invocation of ``function`` that logged ``line``, just after the execution started."""
    logs = boto3.client("logs")
    group = f"/aws/lambda/{function}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    stamp = int(time.time() * 1000) + 1000
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": stamp, "message": "START RequestId: 1"}, {"timestamp": stamp + 1, "message": line}])
    return datetime.fromtimestamp((stamp + 1) / 1000, timezone.utc)


def test_reads_execution_machine_and_history(world: World) -> None:
    snap = collect(world.execution_arn, world.session())
    assert snap.execution is not None and snap.execution.status == "RUNNING"
    assert snap.state_machine is not None and snap.state_machine.arn == world.machine_arn
    assert snap.history is not None and snap.history.events
    ids = [event.id for event in snap.history.events]
    assert ids == sorted(ids, reverse=True)  # newest first


def test_reads_tables_named_by_the_environment_and_the_region(world: World) -> None:
    snap = collect(world.execution_arn, world.session())
    history = snap.table(HISTORY_TABLE)
    assert history is not None and history.exists and history.index("StatusIndex") is not None
    assert set(snap.region_table_names) >= {HISTORY_TABLE, "orch-dev-recovery-plans"}


def test_a_table_of_another_environment_is_recorded_as_missing(aws_env: None) -> None:
    world = build_world(history_table="orch-prod-execution-history")
    snap = collect(world.execution_arn, world.session())
    wrong = snap.table("orch-prod-execution-history")
    assert wrong is not None and not wrong.exists
    assert snap.execution_record is None  # nothing to read it from: the table the functions name is absent


def test_reads_the_execution_record_and_its_job_ids(world: World) -> None:
    snap = collect(world.execution_arn, world.session())
    record = snap.execution_record
    assert record is not None and record.status == "POLLING"
    assert [(wave.number, wave.status, wave.job_id) for wave in record.waves] == [(1, "UNKNOWN", JOB_ID)]


@pytest.mark.parametrize("state", ["ENABLED", "DISABLED"])
def test_reads_the_rule_targeting_the_finder(aws_env: None, state: str) -> None:
    world = build_world(finder_rule_state=state)
    snap = collect(world.execution_arn, world.session())
    (rule,) = snap.rules_targeting(world.names["finder"])
    assert (rule.name, rule.state, rule.schedule_expression) == (world.rule, state, "rate(1 minute)")
    finder = snap.function(world.names["finder"])
    assert finder is not None and finder.policy is not None and "events.amazonaws.com" in finder.policy


def test_a_service_that_cannot_answer_is_a_fact_error_not_a_crash(world: World) -> None:
    snap = collect(world.execution_arn, world.session())  # moto has no DRS: every DRS call fails
    errors = snap.errors_for("drs_jobs")
    assert errors and errors[0].call == "drs:DescribeJobs" and errors[0].resource == JOB_ID
    assert snap.execution_record is not None and snap.functions  # the rest is intact


def test_each_distinct_call_is_made_once(world: World) -> None:
    session = world.session()
    collect(world.execution_arn, session)
    calls = Counter((r.service, r.operation, r.params) for r in session.call_log.records)
    assert [call for call, count in calls.items() if count > 1] == []
    assert all(record.outcome != "refused" for record in session.call_log.records)


def test_every_role_gets_decisions(world: World) -> None:
    snap = collect(world.execution_arn, world.session())
    kinds = sorted((role.kind, role.function or "") for role in snap.role_decisions)
    assert kinds == sorted([("orchestration", world.names["orchestration"]),
                            ("finder", world.names["finder"]), ("poller", world.names["poller"]),
                            ("statemachine", "")])
    orchestration = snap.role("orchestration")
    assert orchestration is not None and orchestration.engine == "local"  # moto cannot simulate
    start = next(d for d in orchestration.decisions if d.action == "drs:StartRecovery")
    assert start.allowed


def test_a_bundle_hides_secret_looking_environment_values(world: World) -> None:
    snap = redacted(collect(world.execution_arn, world.session()))
    orchestration = snap.function(world.names["orchestration"])
    assert orchestration is not None
    assert orchestration.environment["API_TOKEN"] == REDACTED
    assert orchestration.environment["EXECUTION_TABLE"] == HISTORY_TABLE

