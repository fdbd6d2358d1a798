"""A healthy recovery in the sandbox, as `drsdoctor demo` runs it: the reference stack, deployed by
CloudFormation, runs every wave. The same world then hosts a probe function for the function runtime's tests:
deployed code runs with its own environment and role, and fails, throttles and logs the way Lambda does.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drsdoctor.sandbox.demo import DemoResult, run_demo
from drsdoctor.sandbox.world import Sandbox

# One world a module: under -n its tests share one worker (pyproject: --dist loadscope).
pytestmark = pytest.mark.slow

PARENT_ONLY = "DRSDOCTOR_TEST_PARENT_ONLY"


@pytest.fixture(scope="module")
def healthy() -> Iterator[DemoResult]:
    os.environ[PARENT_ONLY] = "must not leak into functions"
    progress: list[str] = []
    try:
        with run_demo(None, report=progress.append) as result:
            assert progress and progress[-1] == "execution SUCCEEDED"
            yield result
    finally:
        os.environ.pop(PARENT_ONLY, None)


def test_every_wave_completes_and_recovery_instances_exist(healthy: DemoResult) -> None:
    world, outcome = healthy.world, healthy.outcome
    assert outcome.status == "SUCCEEDED"
    assert outcome.wave_statuses == ["COMPLETED", "COMPLETED", "COMPLETED"]
    assert outcome.record is not None and outcome.record["status"] == "COMPLETED"
    launched = {item["sourceServerID"] for item in world.recovery_instances()}
    assert launched == set(world.plans[0].source_server_ids)


def test_the_demo_summary_says_how_it_ended(healthy: DemoResult) -> None:
    summary = healthy.summary()
    assert summary[0] == f"execution {healthy.execution_arn}"
    assert summary[1].startswith("state SUCCEEDED after ")
    assert "waves: database COMPLETED, app COMPLETED, web COMPLETED" in summary
    assert "recovery instances: 6" in summary


def test_the_stack_was_deployed_by_cloudformation(healthy: DemoResult) -> None:
    world = healthy.world
    resources = world.client("cloudformation").describe_stack_resources(StackName=world.stack_name)
    types = {r["ResourceType"] for r in resources["StackResources"]}
    assert {"AWS::StepFunctions::StateMachine", "AWS::Lambda::Function", "AWS::Events::Rule",
            "AWS::DynamoDB::Table", "AWS::IAM::Role"} <= types


def history(healthy: DemoResult) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = healthy.world.client("stepfunctions").get_execution_history(
        executionArn=healthy.execution_arn, maxResults=1000)["events"]
    return events


def test_the_definition_really_ran(healthy: DemoResult) -> None:
    events = history(healthy)
    types = {event["type"] for event in events}
    assert {"LambdaFunctionSucceeded", "WaitStateEntered", "ChoiceStateEntered",
            "ExecutionSucceeded"} <= types
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered.count("StartWave") == 3


def test_functions_log_each_invocation_where_lambda_would(healthy: DemoResult) -> None:
    world = healthy.world
    group = f"/aws/lambda/{world.function_name('execution-poller')}"
    messages = [e["message"] for e in world.client("logs").filter_log_events(logGroupName=group)["events"]]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") and "Duration:" in m for m in messages)
    assert any('"wave polled"' in m for m in messages)  # the function's own output


def test_schedule_and_invocation_metrics_are_in_cloudwatch(healthy: DemoResult) -> None:
    world = healthy.world
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


def test_every_timestamp_is_on_the_one_simulated_clock(healthy: DemoResult) -> None:
    events, record = history(healthy), healthy.outcome.record
    first, last = events[0]["timestamp"], events[-1]["timestamp"]
    assert record is not None
    created = datetime.datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    slack = datetime.timedelta(seconds=5)
    assert first - slack <= created <= last + slack  # written by the function, on the world's clock
    assert last <= datetime.datetime.now(datetime.timezone.utc)  # the world's clock is never ahead of now
    assert (last - first) > datetime.timedelta(minutes=5)  # waves take DRS minutes, simulated


# -- the function runtime, with a probe function --------------------------------------------------------

PROBE = '''
import json, os, time
import boto3

def handler(event, context):
    if event.get("fail"):
        raise ValueError("the probe was asked to fail")
    if event.get("drs"):
        return boto3.client("drs").describe_jobs(filters={})["items"]
    caller = boto3.client("sts").get_caller_identity()["Arn"]
    return {"env": dict(os.environ), "caller": caller, "now": time.time(),
            "remaining": context.get_remaining_time_in_millis()}
'''


def probe_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("probe.py", PROBE)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(healthy: DemoResult) -> Sandbox:
    """The demo's world, once its recovery is over, with a probe function deployed through the Lambda API."""
    running = healthy.world
    iam = running.client("iam")
    role = iam.create_role(RoleName="probe-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    running.client("lambda").create_function(
        FunctionName="probe", Runtime="python3.12", Handler="probe.handler", Timeout=30,
        Role=role["Role"]["Arn"], Code={"ZipFile": probe_zip()},
        Environment={"Variables": {"GREETING": "hello"}})
    return running


def invoke(world: Sandbox, payload: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    answer = world.client("lambda").invoke(FunctionName="probe", Payload=json.dumps(payload or {}).encode())
    return answer, json.loads(answer["Payload"].read())


def test_the_function_sees_exactly_its_environment_and_its_role(world: Sandbox) -> None:
    _, result = invoke(world)
    env = result["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_ENDPOINT_URL"] == world.endpoint_url and env["AWS_REGION"] == world.region
    assert PARENT_ONLY not in env  # nothing of the sandbox's own environment leaks in
    assert result["caller"].startswith(f"arn:aws:sts::{world.account_id}:assumed-role/probe-role/")
    assert 0 < result["remaining"] <= 30_000


def test_the_function_runs_on_the_world_clock(world: Sandbox) -> None:
    _, result = invoke(world)
    assert abs(result["now"] - world.clock.timestamp()) < 120


def test_changing_the_environment_changes_the_next_invocation(world: Sandbox) -> None:
    lambda_ = world.client("lambda")
    lambda_.update_function_configuration(FunctionName="probe",
                                          Environment={"Variables": {"GREETING": "changed"}})
    try:
        _, result = invoke(world)
        assert result["env"]["GREETING"] == "changed"
    finally:
        lambda_.update_function_configuration(FunctionName="probe",
                                              Environment={"Variables": {"GREETING": "hello"}})


def test_an_exception_surfaces_as_a_function_error(world: Sandbox) -> None:
    answer, error = invoke(world, {"fail": True})
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the probe was asked to fail"
    assert any("probe.py" in frame for frame in error["stackTrace"])


def test_reserved_concurrency_zero_throttles(world: Sandbox) -> None:
    lambda_ = world.session().client("lambda", endpoint_url=world.endpoint_url,
                                     config=Config(retries={"max_attempts": 1}))
    lambda_.put_function_concurrency(FunctionName="probe", ReservedConcurrentExecutions=0)
    try:
        with pytest.raises(ClientError) as throttled:
            lambda_.invoke(FunctionName="probe", Payload=b"{}")
        assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    finally:
        lambda_.delete_function_concurrency(FunctionName="probe")


def test_drs_sees_the_function_role_and_enforces_its_policies(world: Sandbox) -> None:
    answer, error = invoke(world, {"drs": True})
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "AccessDeniedException"
    assert "probe-role" in error["errorMessage"] and "drs:DescribeJobs" in error["errorMessage"]
    allow = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "drs:DescribeJobs", "Resource": "*"}]}
    world.client("iam").put_role_policy(RoleName="probe-role", PolicyName="read-jobs",
                                        PolicyDocument=json.dumps(allow))
    answer, jobs = invoke(world, {"drs": True})  # the edited policy counts at once
    assert "FunctionError" not in answer and isinstance(jobs, list)


def test_each_invocation_is_logged_with_start_end_and_report(world: Sandbox) -> None:
    invoke(world, {"fail": True})
    logs = world.client("logs")
    messages = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/probe")["events"]]
    for marker in ("START RequestId:", "END RequestId:", "REPORT RequestId:"):
        assert any(m.startswith(marker) for m in messages)
    assert any("ValueError: the probe was asked to fail" in m for m in messages)


def test_async_invocations_are_accepted_and_run_in_the_background(world: Sandbox) -> None:
    lambda_ = world.client("lambda")
    before = len(world.client("logs").filter_log_events(
        logGroupName="/aws/lambda/probe", filterPattern="REPORT")["events"])
    assert lambda_.invoke(FunctionName="probe", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202

    def reports() -> int:
        return len(world.client("logs").filter_log_events(
            logGroupName="/aws/lambda/probe", filterPattern="REPORT")["events"])

    world.clock.sleep(60)  # queued work holds the clock: a minute later it has run
    assert reports() == before + 1
