"""Deadlines hold while an answer is read; a sandbox's "now" comes from its answers; a fact found through one
that could not be read is missing, never empty."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from drsdoctor.aws import AwsFailure, AwsSession, AwsSettings
from drsdoctor.aws.session import BudgetExhausted
from drsdoctor.aws.stamp import NOW_HEADER
from drsdoctor.collect.gather import Gatherer, mark_unreached
from drsdoctor.sandbox.server import LoopbackServer
from drsdoctor.snapshot import FactError, Snapshot
from tests.hostile.server import HostileServer

ARN = "arn:aws:states:eu-west-1:123456789012:execution:machine:run"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with HostileServer() as server:
            yield server


def test_a_dripping_answer_is_given_up_on_when_the_budget_runs_out(hostile: HostileServer) -> None:
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url=hostile.url("drip")))
    session.start_budget(1.5)
    started = time.monotonic()
    with pytest.raises(BudgetExhausted) as raised:
        session.client("stepfunctions").describe_execution(executionArn=ARN)
    assert time.monotonic() - started < 4  # a byte a second would take over an hour
    assert "no answer within the 1.5 s --timeout" in str(raised.value)


def test_without_a_budget_no_call_waits_past_its_limit(hostile: HostileServer) -> None:
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url=hostile.url("drip"), call_limit=1.5))
    started = time.monotonic()
    with pytest.raises(AwsFailure) as raised:
        session.client("stepfunctions").describe_execution(executionArn=ARN)
    assert time.monotonic() - started < 4
    assert (raised.value.kind, raised.value.code) == ("timeout", "NoAnswer")


def test_the_sandbox_clock_is_read_from_its_answers_through_the_session() -> None:
    from drsdoctor.sandbox import server as sandbox

    simulated = datetime(2026, 1, 7, 10, 40, tzinfo=timezone.utc)
    assert sandbox.NOW_HEADER == NOW_HEADER

    def sts(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = (b"<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>"
                b"</GetCallerIdentityResult></GetCallerIdentityResponse>")
        sandbox._stamped(start_response, lambda: simulated)("200 OK", [("Content-Type", "text/xml")])
        return [body]

    server = LoopbackServer(sts).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ACCESS_KEY_ID", "testing")
            patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url=server.endpoint_url))
            snap = Snapshot(target=ARN, collected_at=datetime.now(timezone.utc))
            gather = Gatherer(session, snap, "eu-west-1")
            gather.call("sts", "get_caller_identity", "me")
    finally:
        server.stop()
    assert session.endpoint_time.latest == simulated and snap.collected_at == simulated
    assert [(r.service, r.operation) for r in session.call_log.records] == [("sts", "GetCallerIdentity")]


def test_a_fact_found_through_one_that_could_not_be_read_is_missing_not_empty() -> None:
    from drsdoctor.engine import diagnose

    throttled = FactError(fact="state_machine", call="states:DescribeStateMachine",
                          code="ThrottlingException", message="Rate exceeded")
    snap = Snapshot(target=ARN, fact_errors=[throttled])
    mark_unreached(snap)
    missing = {error.fact for error in snap.fact_errors}
    found_through = {"functions", "tables", "rules", "execution_record", "drs_jobs", "role_decisions",
                     "stack"}
    assert found_through <= missing
    assert all(error.permission is None for error in snap.fact_errors)  # a throttle is not fixed by a grant
    report = diagnose(snap, only=["DDB001"])  # "no record of this execution" was said on no evidence
    assert [finding.status for finding in report.findings] == ["error"] and report.root_cause is None
