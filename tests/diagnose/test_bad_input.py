"""diagnose refuses what it cannot diagnose in one line, with the exit code DESIGN.md names."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest

from drsdoctor import exitcodes

REGION = "eu-west-1"


def run_diagnose(*args: str, endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": REGION}
    env.pop("AWS_ENDPOINT_URL", None)
    extra = ["--endpoint-url", endpoint] if endpoint else []
    return subprocess.run([sys.executable, "-m", "drsdoctor", "diagnose", *args, *extra], capture_output=True,
                          text=True, timeout=120, env=env)


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, says: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.mark.parametrize(("arn", "says"), [
    ("not-an-arn", "not an ARN"),
    ("arn:aws:lambda:eu-west-1:123456789012:function:orch-dev-poller", "is a lambda ARN"),
    ("arn:aws:states:eu-west-1:123456789012:stateMachine:orch-dev-recovery", "not an execution ARN"),
    ("arn:aws:states:eu-west-1:123456789012:express:orch-dev-recovery:run-1:abc", "EXPRESS"),
])
def test_a_bad_arn_is_exit_2_before_any_aws_call(arn: str, says: str) -> None:
    closed = _closed_port()  # nothing listens: a call would fail with exit 3, not 2
    assert_one_line(run_diagnose(arn, endpoint=f"http://127.0.0.1:{closed}"), exitcodes.USAGE, says)


def test_no_arn_and_no_bundle_is_exit_2() -> None:
    assert_one_line(run_diagnose(), exitcodes.USAGE, "EXECUTION_ARN")


def test_an_unknown_execution_is_exit_3(moto_endpoint: str) -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:no-such-run"
    assert_one_line(run_diagnose(arn, endpoint=moto_endpoint), exitcodes.INCOMPLETE, "does not exist")


def test_an_express_machine_is_exit_2(moto_endpoint: str) -> None:
    client = boto3.client("stepfunctions", region_name=REGION, endpoint_url=moto_endpoint,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = client.create_state_machine(name="orch-dev-express", definition=definition, type="EXPRESS",
                                          roleArn="arn:aws:iam::123456789012:role/machine")["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=machine)["executionArn"]
    assert_one_line(run_diagnose(execution, endpoint=moto_endpoint), exitcodes.USAGE, "EXPRESS")


def test_an_unreachable_endpoint_is_exit_3() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:run-1"
    assert_one_line(run_diagnose(arn, endpoint=f"http://127.0.0.1:{_closed_port()}"), exitcodes.INCOMPLETE,
                    "cannot reach AWS")


def test_an_unreadable_bundle_is_exit_2() -> None:
    assert_one_line(run_diagnose("--from-bundle", "/nonexistent/bundle.json"), exitcodes.USAGE,
                    "cannot read bundle")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_credentials_is_exit_3_in_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": REGION})
    arn = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:run-1"
    command = [sys.executable, "-m", "drsdoctor", "diagnose", arn, "--endpoint-url",
               f"http://127.0.0.1:{_closed_port()}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert_one_line(done, exitcodes.INCOMPLETE, "no usable AWS credentials")
