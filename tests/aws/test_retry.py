"""Retries: throttling and transient errors are tried again after a jittered backoff on the session's clock
(tests advance it, nothing sleeps), never past the run's budget; a real error is not retried."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.aws.retry import BASE_DELAY, MAX_ATTEMPTS, MAX_DELAY, backoff
from drsdoctor.aws.session import BudgetExhausted
from drsdoctor.sandbox.server import LoopbackServer
from drsdoctor.sandbox.throttle import throttle_answer
from tests.fakes import FakeMonotonic

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
IDENTITY = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            b"<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/operator</Arn>"
            b"<UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
            b"<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
ACCESS_DENIED = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                 b"<Code>AccessDenied</Code><Message>no</Message></Error><RequestId>1</RequestId>"
                 b"</ErrorResponse>")


class Scripted:
    """STS that answers each request with the next scripted answer: "throttle", "deny", "500" or "ok"."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.requests += 1
        answer = self.script.pop(0) if self.script else "ok"
        if answer == "throttle":
            status, headers, body = throttle_answer("sts", environ)
        elif answer == "deny":
            status, headers, body = "403 Forbidden", [("Content-Type", "text/xml")], ACCESS_DENIED
        elif answer == "500":
            status, headers, body = "500 Internal Server Error", [("Content-Type", "text/xml")], b""
        else:
            status, headers, body = "200 OK", [("Content-Type", "text/xml")], IDENTITY
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Scripted, AwsSession, FakeMonotonic]]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    app = Scripted()
    server = LoopbackServer(app).start()
    try:
        session = AwsSession(AwsSettings(region="us-east-1", endpoint_url=server.endpoint_url))
        session.clock = clock = FakeMonotonic()
        yield app, session, clock
    finally:
        server.stop()


def test_a_throttled_call_waits_on_the_clock_and_then_answers(
        sts: tuple[Scripted, AwsSession, FakeMonotonic]) -> None:
    app, session, clock = sts
    app.script = ["throttle", "throttle", "500"]
    started = time.monotonic()
    answer = session.client("sts").get_caller_identity()
    assert answer["Account"] == "123456789012"
    assert answer["ResponseMetadata"]["RetryAttempts"] == 3 and app.requests == 4
    assert len(clock.waits) == 3  # each retry waited first, on the session's clock...
    assert time.monotonic() - started < 5  # ...not on the wall clock
    (record,) = session.call_log.records
    assert (record.outcome, record.retries) == ("ok", 3)


def test_a_call_throttled_every_time_gives_up_after_max_attempts(
        sts: tuple[Scripted, AwsSession, FakeMonotonic]) -> None:
    app, session, clock = sts
    app.script = ["throttle"] * (MAX_ATTEMPTS + 5)
    with pytest.raises(ClientError) as raised:
        session.client("sts").get_caller_identity()
    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert app.requests == MAX_ATTEMPTS and len(clock.waits) == MAX_ATTEMPTS - 1
    assert session.call_log.records[0].line().endswith(f"after {MAX_ATTEMPTS - 1} retries")


def test_a_denied_call_is_not_retried(sts: tuple[Scripted, AwsSession, FakeMonotonic]) -> None:
    app, session, clock = sts
    app.script = ["deny"]
    with pytest.raises(ClientError) as raised:
        session.client("sts").get_caller_identity()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert app.requests == 1 and clock.waits == []


def test_a_probe_asked_once_is_never_retried(sts: tuple[Scripted, AwsSession, FakeMonotonic]) -> None:
    app, session, clock = sts
    app.script = ["throttle"]
    with pytest.raises(ClientError):
        session.client("sts", attempts=1).get_caller_identity()
    assert app.requests == 1 and clock.waits == []


def test_a_backoff_that_would_outlast_the_budget_gives_up_at_once(
        sts: tuple[Scripted, AwsSession, FakeMonotonic]) -> None:
    app, session, clock = sts
    app.script = ["throttle"] * MAX_ATTEMPTS
    session.start_budget(0.01)  # shorter than any backoff past the first draw of near zero
    with pytest.raises(BudgetExhausted) as raised:
        session.client("sts").get_caller_identity()
    assert raised.value.operation == "GetCallerIdentity"
    assert sum(clock.waits) < 0.01  # it never waited past the budget
    assert app.requests < MAX_ATTEMPTS


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_is_full_jitter_capped(attempt: int) -> None:
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    assert backoff(attempt, lambda: 0.0) == 0.0
    assert backoff(attempt, lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    assert backoff(attempt, lambda: 0.5) == pytest.approx(ceiling / 2)


def test_an_endpoint_nobody_answers_is_tried_only_a_few_times(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    from drsdoctor.aws.retry import NETWORK_ATTEMPTS

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    session = AwsSession(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:9"))  # discard port
    session.clock = clock = FakeMonotonic()
    with pytest.raises(EndpointConnectionError):
        session.client("sts").get_caller_identity()
    assert len(clock.waits) == NETWORK_ATTEMPTS - 1  # not MAX_ATTEMPTS: the operator waits to hear it
