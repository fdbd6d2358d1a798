"""`drsdoctor sandbox serve` in a real subprocess: one JSON line, any AWS client, SIGTERM ends everything.

The served world's clock lives in the server process, so these tests poll it (bounded) rather than advance it.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

# One world a module: under -n its tests share one worker (pyproject: --dist loadscope).
pytestmark = pytest.mark.slow

START_TIMEOUT = 180.0


class Served:
    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.process, self.info = process, info

    def client(self, service: str) -> Any:
        # Plain boto3 with made-up credentials, as any user of the sandbox would write it.
        return boto3.client(service, endpoint_url=self.info["endpoint_url"], region_name=self.info["region"],
                            aws_access_key_id="anything", aws_secret_access_key="anything")

    def now(self) -> datetime.datetime:
        with urllib.request.urlopen(self.info["clock_url"], timeout=10) as response:
            return datetime.datetime.fromisoformat(json.load(response)["now"])


def first_line(process: subprocess.Popen[str], timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
    reader.start()
    reader.join(timeout)
    if not line or not line[0]:
        process.kill()
        raise AssertionError(f"serve printed nothing within {timeout} s: {process.communicate()[1][-2000:]}")
    return line[0]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    process = subprocess.Popen([sys.executable, "-m", "drsdoctor", "sandbox", "serve"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield Served(process, json.loads(first_line(process, START_TIMEOUT)))
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll a condition of the served world (its clock is in another process) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_json_line_says_where_the_world_is(served: Served) -> None:
    info = served.info
    assert info["endpoint_url"].startswith("http://127.0.0.1:")
    assert info["region"] == "us-east-1"
    assert info["state_machine_arn"].startswith("arn:aws:states:us-east-1:")
    assert info["plans"] and json.loads(info["start_input"]) == {"planId": info["plans"][0]}
    assert info["clock_url"] == info["endpoint_url"] + "/_sandbox/clock"
    assert info["fault_url"] == info["endpoint_url"] + "/_sandbox/fault"


def test_plain_boto3_runs_a_recovery_to_the_end(served: Served) -> None:
    sfn = served.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=served.info["state_machine_arn"],
                              input=served.info["start_input"])["executionArn"]

    def finished() -> str | None:
        status = sfn.describe_execution(executionArn=arn)["status"]
        return None if status == "RUNNING" else str(status)

    assert until(finished, 240, "the recovery to end") == "SUCCEEDED"
    instances = served.client("drs").describe_recovery_instances(filters={})["items"]
    assert len(instances) == 6


def test_a_rule_disabled_through_the_api_stops_firing(served: Served) -> None:
    events, logs = served.client("events"), served.client("logs")
    rule = next(r["Name"] for r in events.list_rules()["Rules"] if r["Name"].endswith("finder-schedule"))
    finder = next(t["Arn"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]).rsplit(":", 1)[-1]
    events.disable_rule(Name=rule)
    try:
        disabled_at = served.now()
        until(lambda: served.now() >= disabled_at + datetime.timedelta(minutes=5), 120,
              "five simulated minutes")
        since = int((disabled_at + datetime.timedelta(minutes=1)).timestamp() * 1000)
        logged = logs.filter_log_events(logGroupName=f"/aws/lambda/{finder}", startTime=since)["events"]
        starts = [e for e in logged if e["message"].startswith("START")]
        assert starts == []
    finally:
        events.enable_rule(Name=rule)


def fault_call(served: Served, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    """GET (no body) or POST the served world's fault_url: (HTTP status, JSON answer)."""
    request = urllib.request.Request(served.info["fault_url"], data=body, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), dict(json.load(response))
    except urllib.error.HTTPError as refused:
        return refused.code, dict(json.load(refused))


def test_the_fault_url_switches_the_world_from_one_fault_to_the_next(served: Served) -> None:
    events, lambda_ = served.client("events"), served.client("lambda")
    rule = next(r["Name"] for r in events.list_rules()["Rules"] if r["Name"].endswith("finder-schedule"))
    poller = next(f["FunctionName"] for f in lambda_.list_functions()["Functions"]
                  if f["FunctionName"].endswith("execution-poller"))

    def table_of_poller() -> str:
        config = lambda_.get_function_configuration(FunctionName=poller)
        return str(config["Environment"]["Variables"]["EXECUTION_TABLE"])

    healthy_table = table_of_poller()
    assert fault_call(served) == (200, {"fault": "none"})
    status, refused = fault_call(served, b'{"fault": "rule-gone"}')
    assert status == 400 and "no fault named 'rule-gone'" in refused["message"]
    assert fault_call(served, b'["finder-rule-disabled"]')[0] == 400
    assert fault_call(served) == (200, {"fault": "none"})  # a refused switch changed nothing

    def switch(fault: str) -> tuple[int, dict[str, Any]]:
        return fault_call(served, json.dumps({"fault": fault}).encode())

    assert switch("finder-rule-disabled") == (200, {"fault": "finder-rule-disabled"})
    assert events.describe_rule(Name=rule)["State"] == "DISABLED"
    assert switch("poller-table-env-mismatch") == (200, {"fault": "poller-table-env-mismatch"})
    assert events.describe_rule(Name=rule)["State"] == "ENABLED"  # the fault before it, repaired
    assert "archive" in table_of_poller()
    assert switch("none") == (200, {"fault": "none"})
    assert table_of_poller() == healthy_table
    assert fault_call(served) == (200, {"fault": "none"})


def worker_pids(parent: int) -> list[int]:
    listing = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True)
    return [int(pid) for pid in listing.stdout.split()]


def test_sigterm_stops_the_server_and_every_worker(served: Served) -> None:
    workers = worker_pids(served.process.pid)
    assert workers  # the functions ran in worker processes
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) == 0

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    until(lambda: all(gone(pid) for pid in workers), 30, "the worker processes to end")


def test_a_busy_port_is_a_one_line_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "drsdoctor", "sandbox", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"drsdoctor: cannot serve on 127.0.0.1:{port}: Address already in use"
