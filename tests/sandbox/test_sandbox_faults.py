"""Each fault breaks the world the way drift breaks a real account, and shows its own symptom.

One world serves the module: each test injects its fault through the AWS APIs, runs the plan until it fails or
is visibly stuck, checks the symptom, then stops the execution and repairs the fault through the same APIs.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor.sandbox import faults
from drsdoctor.sandbox.world import Outcome, Sandbox

# One world a module: under -n its tests share one worker (pyproject: --dist loadscope).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world() -> Iterator[Sandbox]:
    with Sandbox.start() as running:
        yield running


class Run:
    """What one broken run left behind, read before the fault was repaired."""

    def __init__(self, world: Sandbox, outcome: Outcome, events: list[dict[str, Any]]) -> None:
        self.outcome, self.events = outcome, events
        self.started_ms = int(events[0]["timestamp"].timestamp() * 1000)
        self.settled_ms = int(world.clock.timestamp() * 1000)
        self._world = world

    def logs(self, function: str, after_ms: int = 0) -> list[str]:
        """The function's log lines from the run (not from after the repair)."""
        return log_messages(self._world, function, self.started_ms + after_ms, self.settled_ms)


def run_with(world: Sandbox, fault: str) -> Run:
    """Inject, run until settled, repair; returns what the run left behind."""
    world.inject(fault)
    try:
        arn = world.start_recovery()
        outcome = world.run_until_settled(arn)
        sfn = world.client("stepfunctions")
        run = Run(world, outcome, sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])
        if outcome.status == "STUCK":
            sfn.stop_execution(executionArn=arn, cause="test over")
            table = world.resource("dynamodb").Table(world.outputs["ExecutionHistoryTableName"])
            # An operator closing the record: the finder must not keep polling a dead execution.
            table.update_item(Key={"executionId": arn}, UpdateExpression="SET #s = :aborted",
                              ExpressionAttributeNames={"#s": "status"},
                              ExpressionAttributeValues={":aborted": "ABORTED"})
        return run
    finally:
        world.repair()


def log_messages(world: Sandbox, function: str, since_ms: int, until_ms: int) -> list[str]:
    logs = world.client("logs")
    group = f"/aws/lambda/{world.function_name(function)}"
    found: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms, "endTime": until_ms}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return found  # as in Lambda, a function never invoked has no log group
        found += [event["message"] for event in page["events"]]
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def test_every_fault_is_catalogued_with_its_root_cause() -> None:
    assert set(faults.FAULTS) >= {"finder-rule-disabled", "finder-permission-removed",
                                  "poller-missing-drs-describe", "orchestrator-missing-follow-on",
                                  "poller-table-env-mismatch", "statemachine-choice-drift",
                                  "server-launch-failure"}
    for fault in faults.FAULTS.values():
        assert fault.summary and fault.root_cause and fault.symptom in ("STUCK", "FAILED")
    assert len(faults.catalogue()) == len(faults.FAULTS)


def test_finder_rule_disabled_means_the_poller_never_runs(world: Sandbox) -> None:
    run = run_with(world, "finder-rule-disabled")
    assert run.outcome.status == "STUCK"
    assert run.outcome.wave_statuses[0] == "POLLING"
    # An invocation already under way when the rule was disabled may finish; none starts a period later.
    assert not [m for m in run.logs("execution-finder", after_ms=60_000) if m.startswith("START")]
    assert not [m for m in run.logs("execution-poller", after_ms=60_000) if m.startswith("START")]


def test_finder_permission_removed_fails_every_rule_invocation(world: Sandbox) -> None:
    run = run_with(world, "finder-permission-removed")
    assert run.outcome.status == "STUCK"
    assert run.outcome.wave_statuses[0] == "POLLING"
    assert not [m for m in run.logs("execution-finder", after_ms=60_000) if m.startswith("START")]
    points = world.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Events", MetricName="FailedInvocations",
        Dimensions=[{"Name": "RuleName", "Value": world.finder_rule_name}],
        StartTime=run.events[0]["timestamp"],
        EndTime=run.events[-1]["timestamp"] + datetime.timedelta(minutes=1),
        Period=60, Statistics=["Sum"])["Datapoints"]
    assert sum(point["Sum"] for point in points) >= 5  # one a minute while it was stuck


def test_poller_missing_describe_writes_unknown(world: Sandbox) -> None:
    run = run_with(world, "poller-missing-drs-describe")
    assert run.outcome.status == "STUCK"
    assert run.outcome.wave_statuses[0] == "UNKNOWN"
    messages = run.logs("execution-poller")
    assert any("AccessDeniedException" in m and "drs:DescribeJobs" in m for m in messages)


def test_orchestrator_missing_follow_on_fails_every_server(world: Sandbox) -> None:
    outcome = run_with(world, "orchestrator-missing-follow-on").outcome
    assert outcome.status == "FAILED", outcome
    assert outcome.record is not None
    job_ids = outcome.record["waves"][0]["jobIds"]
    jobs = world.client("drs").describe_jobs(filters={"jobIDs": job_ids})["items"]
    assert jobs and all(job["status"] == "COMPLETED" for job in jobs)
    servers = [server for job in jobs for server in job["participatingServers"]]
    assert servers and all(server["launchStatus"] == "FAILED" for server in servers)


def test_poller_reading_another_environments_table_never_updates_the_wave(world: Sandbox) -> None:
    run = run_with(world, "poller-table-env-mismatch")
    assert run.outcome.status == "STUCK"
    assert run.outcome.wave_statuses[0] == "POLLING"
    # The poller did run, with the drifted variable: it just looked in the wrong table.
    assert [m for m in run.logs("execution-poller") if m.startswith("START")]
    config = world.client("lambda").get_function_configuration(
        FunctionName=world.function_name("execution-poller"))
    assert config["Environment"]["Variables"]["EXECUTION_TABLE"] == world.outputs["ExecutionHistoryTableName"]


def test_choice_drift_loops_after_the_wave_completed(world: Sandbox) -> None:
    run = run_with(world, "statemachine-choice-drift")
    assert run.outcome.status == "STUCK"
    assert run.outcome.wave_statuses[0] == "COMPLETED"
    entered = [e["stateEnteredEventDetails"]["name"] for e in run.events if "stateEnteredEventDetails" in e]
    assert entered.count("StartWave") == 1
    assert entered.count("WaitForWave") >= 3
    definition = json.loads(world.client("stepfunctions").describe_state_machine(
        stateMachineArn=world.state_machine_arn)["definition"])
    assert "Completed" not in json.dumps(definition["States"]["CheckWaveStatus"])  # repaired


def test_server_launch_failure_fails_its_wave(world: Sandbox) -> None:
    outcome = run_with(world, "server-launch-failure").outcome
    assert outcome.status == "FAILED"
    assert outcome.wave_statuses[:2] == ["COMPLETED", "FAILED"]
    assert outcome.record is not None
    failing = world.plans[0].waves[1].source_server_ids[1]
    assert any(failing in reason for reason in outcome.record["waves"][1]["failureReasons"])


# -- repair: one world serves many scenarios (here, test_scenarios, `sandbox serve`'s fault_url) -------------

# A statement's policy elements: moto's CloudFormation also leaves the resource's FunctionName property in it.
GRAMMAR = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
           "Condition"}


def fingerprint(world: Sandbox) -> dict[str, Any]:
    """Everything a fault of the catalogue may change, read back through the APIs (the launch outcome a
    source server is set to, from the DRS simulator: DRS has no API for it)."""
    iam, lambda_ = world.client("iam"), world.client("lambda")
    policies = {}
    for role in ("orchestration", "execution-finder", "execution-poller"):
        name = f"drs-orchestrator-{world.environment}-{role}-role"
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            policies[f"{name}/{policy}"] = document
    finder_name = world.function_name("execution-finder")
    try:
        finder = json.loads(lambda_.get_policy(FunctionName=finder_name)["Policy"])
    except lambda_.exceptions.ResourceNotFoundException:
        finder = {"Statement": []}  # its last statement removed, a function has no resource policy
    poller = lambda_.get_function_configuration(FunctionName=world.function_name("execution-poller"))
    definition = world.client("stepfunctions").describe_state_machine(
        stateMachineArn=world.state_machine_arn)["definition"]
    servers = world.client("drs").describe_source_servers(filters={})["items"]
    return {"policies": policies,
            "rule": world.client("events").describe_rule(Name=world.finder_rule_name)["State"],
            "finder-permissions": sorted(({key: value for key, value in statement.items() if key in GRAMMAR}
                                          for statement in finder["Statement"]), key=lambda st: st["Sid"]),
            "poller-environment": poller["Environment"]["Variables"],
            "definition": json.loads(definition),
            "servers": {server["sourceServerID"]: (
                server["dataReplicationInfo"]["dataReplicationState"],
                world.drs.source_server(server["sourceServerID"]).outcome) for server in servers}}


@pytest.mark.parametrize("fault", sorted(faults.FAULTS))
def test_repair_puts_back_everything_the_fault_changed(world: Sandbox, fault: str) -> None:
    healthy = fingerprint(world)
    world.inject(fault)
    try:
        broken = fingerprint(world)
    finally:
        world.repair()
    assert broken != healthy  # the fingerprint sees this fault
    assert fingerprint(world) == healthy
