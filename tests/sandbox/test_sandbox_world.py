"""A healthy recovery in the sandbox: the reference stack, deployed by CloudFormation, runs every wave."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from drsdoctor.sandbox.world import Outcome, Sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def healthy() -> Iterator[tuple[Sandbox, Outcome]]:
    with Sandbox.start() as world:
        outcome = world.run_until_settled(world.start_recovery())
        yield world, outcome


def test_every_wave_completes_and_recovery_instances_exist(healthy: tuple[Sandbox, Outcome]) -> None:
    world, outcome = healthy
    assert outcome.status == "SUCCEEDED"
    assert outcome.wave_statuses == ["COMPLETED", "COMPLETED", "COMPLETED"]
    assert outcome.record is not None and outcome.record["status"] == "COMPLETED"
    launched = {item["sourceServerID"] for item in world.recovery_instances()}
    assert launched == set(world.plans[0].source_server_ids)


def test_the_stack_was_deployed_by_cloudformation(healthy: tuple[Sandbox, Outcome]) -> None:
    world, _ = healthy
    resources = world.client("cloudformation").describe_stack_resources(StackName=world.stack_name)
    types = {r["ResourceType"] for r in resources["StackResources"]}
    assert {"AWS::StepFunctions::StateMachine", "AWS::Lambda::Function", "AWS::Events::Rule",
            "AWS::DynamoDB::Table", "AWS::IAM::Role"} <= types


def test_the_definition_really_ran(healthy: tuple[Sandbox, Outcome]) -> None:
    world, outcome = healthy
    events = world.client("stepfunctions").get_execution_history(
        executionArn=outcome.execution_arn, maxResults=1000)["events"]
    types = {event["type"] for event in events}
    assert {"LambdaFunctionSucceeded", "WaitStateEntered", "ChoiceStateEntered",
            "ExecutionSucceeded"} <= types
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered.count("StartWave") == 3


def test_functions_log_each_invocation_where_lambda_would(healthy: tuple[Sandbox, Outcome]) -> None:
    world, _ = healthy
    logs = world.client("logs")
    group = f"/aws/lambda/{world.function_name('execution-poller')}"
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") and "Duration:" in m for m in messages)
    assert any('"wave polled"' in m for m in messages)  # the function's own output


def test_schedule_and_invocation_metrics_are_in_cloudwatch(healthy: tuple[Sandbox, Outcome]) -> None:
    world, _ = healthy
    cloudwatch = world.client("cloudwatch")
    end = world.clock.now() + datetime.timedelta(minutes=1)

    def total(namespace: str, metric: str, dimension: str, value: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=[{"Name": dimension, "Value": value}],
            StartTime=end - datetime.timedelta(days=1), EndTime=end, Period=86400, Statistics=["Sum"])
        return sum(p["Sum"] for p in points["Datapoints"])

    assert total("AWS/Events", "Invocations", "RuleName", world.finder_rule_name) > 0
    assert total("AWS/Events", "FailedInvocations", "RuleName", world.finder_rule_name) == 0
    assert total("AWS/Lambda", "Invocations", "FunctionName", world.function_name("execution-poller")) > 0


def test_every_timestamp_is_on_the_one_simulated_clock(healthy: tuple[Sandbox, Outcome]) -> None:
    world, outcome = healthy
    events = world.client("stepfunctions").get_execution_history(
        executionArn=outcome.execution_arn, maxResults=1000)["events"]
    first, last = events[0]["timestamp"], events[-1]["timestamp"]
    assert outcome.record is not None
    created = datetime.datetime.fromisoformat(outcome.record["createdAt"].replace("Z", "+00:00"))
    slack = datetime.timedelta(seconds=5)
    assert first - slack <= created <= last + slack  # written by the function, on the world's clock
    assert last <= datetime.datetime.now(datetime.timezone.utc)  # the world's clock is never ahead of now
    assert (last - first) > datetime.timedelta(minutes=5)  # waves take DRS minutes, simulated
