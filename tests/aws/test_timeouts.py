"""The whole-run budget (`diagnose --timeout`): when it runs out, collection stops, the facts not gathered are
named, the partial report is printed, exit 3. Against a moto server on loopback that answers slowly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drsdoctor import exitcodes
from drsdoctor.aws import AwsFailure, AwsSession, AwsSettings
from drsdoctor.aws.session import BudgetExhausted
from drsdoctor.collect.gather import BUDGET_CODE, NOT_COLLECTED, Gatherer, budget_ran_out
from drsdoctor.sandbox.server import LoopbackServer, service_of
from drsdoctor.sandbox.throttle import Throttler
from drsdoctor.snapshot import Snapshot
from tests.collect.conftest import build_world

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# While the endpoint is slow, CloudFormation answers this late: the stack lookup, the collector's third round,
# outlasts BUDGET whenever it starts; the rounds before it answer at once (well within BUDGET, even on a busy
# machine) and the rounds after it never start.
DELAY = 8.0
BUDGET = "4"


class SlowApp:
    """Wraps a WSGI app; while `slow` is set, CloudFormation's answers come DELAY seconds late."""

    def __init__(self, app: Any) -> None:
        self.app, self.slow = app, threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.slow.is_set() and service_of(environ) == "cloudformation":
            time.sleep(DELAY)
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def slow_moto() -> Iterator[tuple[str, SlowApp, str]]:
    """A moto server with the collector's small orchestrator in it; (endpoint, app, execution ARN)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = SlowApp(DomainDispatcherApplication(create_backend_app))
    server = LoopbackServer(app).start()
    try:
        reset = urllib.request.Request(f"{server.endpoint_url}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(reset, timeout=30).read()
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint_url}.items():
                patch.setenv(name, value)
            patch.delenv("AWS_PROFILE", raising=False)
            world = build_world()
        yield server.endpoint_url, app, world.execution_arn
    finally:
        server.stop()


def _diagnose(endpoint: str, arn: str, *options: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS", "AWS_SECRET",
                                  "AWS_SESSION"))}
    return subprocess.run([sys.executable, "-m", "drsdoctor", "diagnose", arn, "--endpoint-url", endpoint,
                           "--format", "json", *options], capture_output=True, text=True, timeout=120,
                          env={**env, **CREDENTIALS})


def test_a_run_out_of_budget_prints_the_partial_report_names_what_is_missing_and_exits_3(
        slow_moto: tuple[str, SlowApp, str]) -> None:
    endpoint, app, arn = slow_moto
    app.slow.set()
    try:
        started = time.monotonic()
        done = _diagnose(endpoint, arn, "--timeout", BUDGET)
        elapsed = time.monotonic() - started
    finally:
        app.slow.clear()
    assert done.returncode == exitcodes.INCOMPLETE, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    assert report["schema"] == "drsdoctor.report/1" and report["target"] == arn
    note = next(n for n in report["notes"] if "budget ran out before these facts were collected" in n)
    missing = {fact.strip() for fact in note.split("collected: ", 1)[1].split(",")}
    # The stack lookup was cut short, and what comes after it was never asked for...
    assert {"stack", "rules", "tables", "execution_record", "drs_jobs", "role_decisions"} <= missing, note
    # ...while what the rounds before it read is in the report (the functions' logs and policies, read
    # after the stack, are named missing for each function).
    assert not {"execution", "state_machine", "history"} & missing, note
    errors = [f for f in report["findings"] if f["status"] == "error"]
    assert any(NOT_COLLECTED in f["detail"] for f in errors)
    assert not any(NOT_COLLECTED in f["detail"] for f in report["findings"] if f["status"] == "pass")
    assert elapsed < 30  # interpreter start, the budget and one slow answer: not the whole collection


def test_a_call_after_the_deadline_is_not_sent_and_becomes_a_fact_error() -> None:
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9"))
    session.start_budget(0.0)
    snap = Snapshot(target="arn:aws:states:eu-west-1:123456789012:execution:m:e")
    gather = Gatherer(session, snap, "eu-west-1")
    assert gather.fact("rules", "finder", lambda: gather.call("events", "describe_rule", "finder",
                                                              Name="finder")) is None
    (error,) = snap.fact_errors
    assert (error.fact, error.call, error.code, error.message) == (
        "rules", "events:DescribeRule", BUDGET_CODE, NOT_COLLECTED)
    assert error.permission is None  # no permission would have helped
    assert budget_ran_out(snap) == ["rules"]
    assert len(session.call_log) == 0  # nothing was sent


def test_a_throttled_call_stops_backing_off_when_the_budget_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)

    def throttle_all(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, headers, body = Throttler(share=0.999, seed=1).answer(environ) or ("500 Error", [], b"")
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    server = LoopbackServer(throttle_all).start()
    try:
        settings = AwsSettings(region="us-east-1", endpoint_url=server.endpoint_url, max_attempts=10)
        session = AwsSession(settings)
        session.start_budget(0.2)
        started = time.monotonic()
        with pytest.raises((BudgetExhausted, ClientError)) as raised:
            session.client("sts").get_caller_identity()
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert isinstance(raised.value, BudgetExhausted)
    assert elapsed < 5  # ten attempts of exponential backoff would take far longer


@pytest.mark.parametrize(("budget", "connect", "read"), [(None, 3.0, 20.0), (1.5, 1.5, 1.5), (10, 3.0, 10)])
def test_no_single_attempt_may_outlast_the_budget(budget: float | None, connect: float, read: float) -> None:
    settings = AwsSettings().within(budget)
    assert (settings.connect_timeout, settings.read_timeout) == (connect, read)


def test_a_budget_failure_is_an_aws_failure_of_kind_timeout() -> None:
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9"))
    session.start_budget(0.0)
    gather = Gatherer(session, Snapshot(target="t"), "eu-west-1")
    with pytest.raises(AwsFailure) as raised:
        gather.call("dynamodb", "list_tables", "tables")
    assert raised.value.kind == "timeout" and not raised.value.fatal


@pytest.mark.parametrize("budget", ["0", "-1", "soon"])
def test_a_budget_that_is_not_a_positive_number_is_refused(budget: str) -> None:
    from click.testing import CliRunner

    from drsdoctor.cli import cli

    arn = "arn:aws:states:eu-west-1:123456789012:execution:machine:run"
    result = CliRunner().invoke(cli, ["diagnose", arn, "--timeout", budget])
    assert result.exit_code == 2 and "--timeout" in result.output
