"""Inspecting never changes anything, proved twice: statically, no module but the session makes an AWS client,
so the guard and the audit trail see every call; at run time, the suite records every call (tests/conftest.py)
and these tests show the trail, and the suite's check of it, work."""

from __future__ import annotations

import ast
import datetime
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from drsdoctor.aws import AwsSession, AwsSettings, MutatingCallRefused
from drsdoctor.aws.audit import ENV_VAR, CallAudit, describe, is_unsafe, read_trail
from drsdoctor.errors import InputError
from drsdoctor.sandbox.server import LoopbackServer
from tests.conftest import Recorder
from tests.fakes import FakeMonotonic

ROOT = Path(__file__).resolve().parents[2]
# Code that may make its own clients: the session itself, and code that runs in the sandbox or on Lambda.
MAY_MAKE_CLIENTS = ("drsdoctor/aws/session.py", "drsdoctor/sandbox/", "drsdoctor/reference/functions/")
CLIENT_FACTORIES = frozenset({
    "boto3.client", "boto3.resource", "boto3.Session", "boto3.session.Session", "boto3.setup_default_session",
    "boto3.DEFAULT_SESSION", "botocore.session.Session", "botocore.session.get_session",
    "botocore.session.create_session",
})
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "eu-west-1"
ACCOUNT_STATES = f"arn:aws:states:{REGION}:123456789012"


# ---- the static half: every client comes from AwsSession ------------------------------------------------

def direct_clients(source: str) -> list[str]:
    """`line: name` for each place the module reaches a boto3/botocore client or session factory itself."""
    tree = ast.parse(source)
    imported: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                imported[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "create_client":  # botocore's own session API
            found.append(f"{node.lineno}: create_client")
            continue
        if not isinstance(node, ast.Attribute | ast.Name) or (dotted := _dotted(node)) is None:
            continue
        head, _, rest = dotted.partition(".")
        if head in imported and ".".join(filter(None, [imported[head], rest])) in CLIENT_FACTORIES:
            found.append(f"{node.lineno}: {dotted}")
    return found


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


@pytest.mark.parametrize(("source", "flagged"), [
    ("import boto3\nboto3.client('drs')", ["2: boto3.client"]),
    ("import boto3 as b\nb.resource('dynamodb')", ["2: b.resource"]),
    ("from boto3 import client\nclient('iam')", ["2: client"]),
    ("import boto3.session\nboto3.session.Session()", ["2: boto3.session.Session"]),
    ("from boto3.session import Session as S\nS(profile_name='p')", ["2: S"]),
    ("import boto3\nmake = boto3.client", ["2: boto3.client"]),
    ("from botocore.session import get_session\nget_session()", ["2: get_session"]),
    ("def f(core):\n    return core.create_client('sts')", ["2: create_client"]),
    ("def f(session):\n    return session.client('iam')", []),
    ("from boto3.dynamodb.types import TypeDeserializer\nTypeDeserializer()", []),
    ("client = object()\nclient.client('x')", []),
])
def test_the_walker_finds_a_client_made_directly(source: str, flagged: list[str]) -> None:
    assert direct_clients(source) == flagged


def test_no_module_but_the_session_makes_an_aws_client() -> None:
    modules = sorted([*ROOT.joinpath("drsdoctor").rglob("*.py"), *ROOT.joinpath("checks").rglob("*.py")])
    offenders = {}
    for module in modules:
        name = module.relative_to(ROOT).as_posix()
        if not name.startswith(MAY_MAKE_CLIENTS) and (found := direct_clients(module.read_text())):
            offenders[name] = found
    assert offenders == {}, "make clients with AwsSession.client(): its guard and audit trail must see them"
    # ...and the walker does see the one place that may: the proof is not vacuous.
    assert direct_clients(ROOT.joinpath("drsdoctor/aws/session.py").read_text())
    assert len(modules) > 50


# ---- the trail, against a moto server on loopback --------------------------------------------------------

class Throttling:
    """Wraps moto's server app: the next `pending` DynamoDB requests are answered ThrottlingException."""

    def __init__(self, app: Any) -> None:
        self.app, self.pending = app, 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.pending and "DynamoDB" in environ.get("HTTP_X_AMZ_TARGET", ""):
            self.pending -= 1
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                               "message": "Rate of requests exceeds the allowed throughput."}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"),
                                               ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[tuple[str, Throttling]]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = Throttling(DomainDispatcherApplication(create_backend_app))
    server = LoopbackServer(app).start()
    try:
        yield server.endpoint_url, app
    finally:
        server.stop()


@pytest.fixture
def endpoint(moto_server: tuple[str, Throttling], monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server[0]


@pytest.fixture
def own_trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trail of this test's own: calls made here never reach the suite's."""
    trail = tmp_path / "calls.jsonl"
    monkeypatch.setenv(ENV_VAR, str(trail))
    return trail


def _session(endpoint: str) -> AwsSession:
    settings = AwsSettings(region=REGION, endpoint_url=endpoint, max_attempts=4)
    return AwsSession(settings, clock=FakeMonotonic())  # retries wait on a clock that never sleeps


def test_a_call_through_an_aws_session_lands_on_the_suite_trail(endpoint: str) -> None:
    suite_trail = os.environ[ENV_VAR]  # set for every test by tests/conftest.py
    _, start = read_trail(suite_trail)
    _session(endpoint).client("dynamodb").list_tables()
    entries, _ = read_trail(suite_trail, start)
    assert [(e["service"], e["operation"]) for e in entries] == [("dynamodb", "ListTables")]
    (entry,) = entries
    assert set(entry) == {"time", "pid", "command", "service", "operation", "read_only", "endpoint"}
    assert (entry["read_only"], entry["command"], entry["pid"], entry["endpoint"]) == (
        True, "-", os.getpid(), endpoint)
    assert datetime.datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_every_attempt_is_recorded_retries_included(endpoint: str, own_trail: Path,
                                                    moto_server: tuple[str, Throttling]) -> None:
    moto_server[1].pending = 2
    session = _session(endpoint)
    assert session.client("dynamodb").list_tables()["TableNames"] == []
    entries, _ = read_trail(str(own_trail))
    assert [entry["operation"] for entry in entries] == ["ListTables"] * 3
    assert session.call_log.records[-1].retries == 2


def test_no_parameter_value_is_written(endpoint: str, own_trail: Path) -> None:
    session = _session(endpoint)
    secret = "orders-sk_live_51Hx9QpLz"  # a name that carries a secret: in the JSON body and in a URL path
    with pytest.raises(Exception, match="ResourceNotFound"):
        session.client("dynamodb").describe_table(TableName=secret)
    with pytest.raises(Exception, match="ResourceNotFound"):
        session.client("lambda").get_function(FunctionName=secret)
    text = own_trail.read_text()
    assert secret not in text and "sk_live" not in text
    assert [json.loads(line)["operation"] for line in text.splitlines()] == ["DescribeTable", "GetFunction"]


def test_a_refused_call_is_recorded_as_refused_and_flagged_unless_expected(endpoint: str,
                                                                           own_trail: Path) -> None:
    with pytest.raises(MutatingCallRefused):
        _session(endpoint).client("events").disable_rule(Name="execution-finder")
    (entry,) = read_trail(str(own_trail))[0]
    fields = ("service", "operation", "refused", "read_only", "endpoint")
    assert tuple(entry[name] for name in fields) == ("eventbridge", "DisableRule", True, False, None)
    assert is_unsafe(entry) and not is_unsafe(entry, refusals_expected=True)


def test_a_mutating_call_that_slips_past_the_guard_is_caught(endpoint: str, own_trail: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              request: pytest.FixtureRequest) -> None:
    monkeypatch.setattr("drsdoctor.aws.session.is_read_operation", lambda service, operation: True)
    dynamodb = _session(endpoint).client("dynamodb")
    dynamodb.create_table(TableName="slipped", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    try:
        recorder = Recorder(str(own_trail), previous=None)  # the suite's own per-test check
        assert recorder.problems_of(request.node) == [
            f"dynamodb:CreateTable (MUTATING) sent to {endpoint} by `-` (pid {os.getpid()})"]
        assert (recorder.tally.mutating, recorder.tally.sent) == (1, 1)
    finally:
        dynamodb.delete_table(TableName="slipped")  # the guard is still patched away here


@pytest.mark.parametrize(("args", "command"), [
    (["diagnose", f"{ACCOUNT_STATES}:execution:orchestrator:missing"], "diagnose"),
    (["iam", "simulate", "--role-arn", "arn:aws:iam::123456789012:role/missing",
      "--action", "drs:DescribeJobs"], "iam simulate"),
])
def test_each_line_names_the_command_that_sent_it(endpoint: str, own_trail: Path, args: list[str],
                                                   command: str) -> None:
    from drsdoctor.cli import cli

    CliRunner().invoke(cli, [*args, "--endpoint-url", endpoint, "--region", REGION])
    entries, _ = read_trail(str(own_trail))
    assert entries and {entry["command"] for entry in entries} == {command}
    assert all(entry["read_only"] and not is_unsafe(entry) for entry in entries)


def test_several_writers_share_one_trail_without_mixing_lines(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    trail = tmp_path / "shared.jsonl"
    audits = [CallAudit(str(trail), f"writer-{n}") for n in range(4)]
    def write(audit: CallAudit) -> None:
        for _ in range(250):
            audit.append("sfn", "DescribeExecution", "https://states.eu-west-1.amazonaws.com")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, audits))
    entries, _ = read_trail(str(trail))
    assert len(entries) == 1000
    assert {entry["command"] for entry in entries} == {f"writer-{n}" for n in range(4)}


def test_a_trail_that_cannot_be_written_is_a_one_line_usage_error(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-folder" / "calls.jsonl"))
    with pytest.raises(InputError, match=f"{ENV_VAR}: cannot append to"):
        AwsSession(AwsSettings(region=REGION))


def test_describe_names_the_call_and_who_sent_it() -> None:
    line = {"service": "sfn", "operation": "StopExecution", "read_only": False, "endpoint": "https://states",
            "command": "diagnose", "pid": 7}
    assert describe(line) == "sfn:StopExecution (MUTATING) sent to https://states by `diagnose` (pid 7)"
    assert is_unsafe(line)


def test_a_line_claiming_read_only_is_judged_again() -> None:
    assert is_unsafe({"service": "sfn", "operation": "StartExecution", "read_only": True})
    assert not is_unsafe({"service": "sfn", "operation": "DescribeExecution", "read_only": True})


# ---- the suite's recorder itself, run on a small suite -----------------------------------------------------

INNER_SUITE = '''
import pytest
from moto import mock_aws
from drsdoctor.aws import AwsSession, AwsSettings, MutatingCallRefused

@pytest.fixture
def session(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield AwsSession(AwsSettings(region="eu-west-1"))

def test_reads(session):
    session.client("dynamodb").list_tables()

def test_slips_past_the_guard(session, monkeypatch):
    monkeypatch.setattr("drsdoctor.aws.session.is_read_operation", lambda service, operation: True)
    session.client("dynamodb").create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])

def test_refused_unasked(session):
    with pytest.raises(MutatingCallRefused):
        session.client("events").disable_rule(Name="finder")

@pytest.mark.expects_refused_calls
def test_refused_on_purpose(session):
    with pytest.raises(MutatingCallRefused):
        session.client("events").disable_rule(Name="finder")

def test_turns_the_recorder_off():
    import os
    os.environ.pop("DRSDOCTOR_CALL_LOG")
'''


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(ROOT.joinpath("tests/conftest.py").read_text())
    pytester.makeini("[pytest]\ntestpaths = .\n"
                     "markers =\n    expects_refused_calls: refusals are the point\n")
    return pytester


# Plugins the small suite does not need, and that cost seconds to start in each run.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:xdist", "-p", "no:cacheprovider")


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_the_suite_recorder_fails_the_test_that_sent_or_was_refused_a_mutating_call(
        inner: pytest.Pytester) -> None:
    with mock_aws():  # moto's DynamoDB loaded out here: the inner run would otherwise unload it afterwards
        boto3.client("dynamodb", region_name=REGION, **_keys()).list_tables()
    inner.makepyfile(test_inner=INNER_SUITE)
    result = inner.runpytest(*QUIET)
    result.assert_outcomes(passed=5, errors=3)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_slips_past_the_guard*", "*dynamodb:CreateTable (MUTATING) sent to*",
        "*ERROR at teardown of test_refused_unasked*", "*eventbridge:DisableRule (MUTATING) refused*",
        "*marks itself @pytest.mark.expects_refused_calls*",
        "*ERROR at teardown of test_turns_the_recorder_off*",
        "*DRSDOCTOR_CALL_LOG was changed and not restored*",
        "*AWS calls recorded: 2 sent by inspecting commands in 2 tests, 1 mutating*",
    ])
    assert "teardown of test_refused_on_purpose" not in result.stdout.str()


def test_a_whole_suite_that_recorded_no_call_fails(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_inner="def test_pure():\n    assert True\n")
    result = inner.runpytest(*QUIET)
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*AWS calls recorded: 0 sent*", "*recorded nothing: it proves nothing*"])
