"""The function runtime: deployed code runs with its own environment and role, and fails, throttles and logs
the way Lambda does. A small probe function is deployed through the Lambda API next to the reference stack.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drsdoctor.sandbox.world import Sandbox

pytestmark = pytest.mark.slow

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
def world() -> Iterator[Sandbox]:
    os.environ["DRSDOCTOR_TEST_PARENT_ONLY"] = "must not leak into functions"
    try:
        with Sandbox.start() as running:
            iam = running.client("iam")
            role = iam.create_role(RoleName="probe-role", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]}))
            running.client("lambda").create_function(
                FunctionName="probe", Runtime="python3.12", Handler="probe.handler", Timeout=30,
                Role=role["Role"]["Arn"], Code={"ZipFile": probe_zip()},
                Environment={"Variables": {"GREETING": "hello"}})
            yield running
    finally:
        os.environ.pop("DRSDOCTOR_TEST_PARENT_ONLY", None)


def invoke(world: Sandbox, payload: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    answer = world.client("lambda").invoke(FunctionName="probe", Payload=json.dumps(payload or {}).encode())
    return answer, json.loads(answer["Payload"].read())


def test_the_function_sees_exactly_its_environment_and_its_role(world: Sandbox) -> None:
    _, result = invoke(world)
    env = result["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_ENDPOINT_URL"] == world.endpoint_url and env["AWS_REGION"] == world.region
    assert "DRSDOCTOR_TEST_PARENT_ONLY" not in env
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
    invoke(world)
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
