"""Reading a long history: newest first, only the pages the checks need, plus the start event."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.stub import Stubber

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.collect.gather import Gatherer
from drsdoctor.collect.stepfunctions import history
from drsdoctor.collect.target import parse_execution_arn
from drsdoctor.snapshot import Snapshot

ARN = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:run-1"
WHEN = datetime(2026, 1, 7, 10, 0, tzinfo=timezone.utc)


def _events(newest: int, count: int) -> list[dict[str, object]]:
    return [{"id": event_id, "type": "WaitStateEntered", "timestamp": WHEN, "previousEventId": event_id - 1,
             "stateEnteredEventDetails": {"name": "WaitForWave"}}
            for event_id in range(newest, max(newest - count, 0), -1)]


@pytest.fixture
def gather(monkeypatch: pytest.MonkeyPatch) -> Gatherer:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    session = AwsSession(AwsSettings(region="eu-west-1"))
    return Gatherer(session, Snapshot(target=ARN), "eu-west-1")


def test_a_long_history_is_read_only_as_far_as_needed(gather: Gatherer) -> None:
    client = gather.session.client("stepfunctions", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_execution_history", {"events": _events(25000, 1000), "nextToken": "page-2"},
                          {"executionArn": ARN, "reverseOrder": True, "maxResults": 1000})
        stub.add_response("get_execution_history", {"events": _events(24000, 1000), "nextToken": "page-3"},
                          {"executionArn": ARN, "reverseOrder": True, "maxResults": 1000,
                           "nextToken": "page-2"})
        start = [{"id": 1, "type": "ExecutionStarted", "timestamp": WHEN, "previousEventId": 0,
                  "executionStartedEventDetails": {"input": '{"planId": "plan-1"}'}}]
        stub.add_response("get_execution_history", {"events": start, "nextToken": "more"},
                          {"executionArn": ARN, "reverseOrder": False, "maxResults": 1})
        found = history(gather, parse_execution_arn(ARN), limit=1500)
        stub.assert_no_pending_responses()
    assert found is not None
    assert (found.complete, found.total_events) == (False, 25000)
    assert [event.id for event in found.events[:2]] == [25000, 24999]
    assert found.events[-1].id == 1 and found.events[-1].details["input"] == '{"planId": "plan-1"}'
    assert len(found.events) == 1501
    assert len(gather.session.call_log) == 3  # never the other 23 pages


def test_a_server_that_ignores_paging_still_yields_newest_first(gather: Gatherer) -> None:
    client = gather.session.client("stepfunctions", "eu-west-1")
    oldest_first = list(reversed(_events(120, 120)))
    with Stubber(client) as stub:
        stub.add_response("get_execution_history", {"events": oldest_first},
                          {"executionArn": ARN, "reverseOrder": True, "maxResults": 100})
        stub.add_response("get_execution_history", {"events": oldest_first[:1]},
                          {"executionArn": ARN, "reverseOrder": False, "maxResults": 1})
        found = history(gather, parse_execution_arn(ARN), limit=100)
    assert found is not None and not found.complete and found.total_events == 120
    assert [event.id for event in found.events][:3] == [120, 119, 118]
    assert found.events[-1].id == 1


def test_a_short_history_is_one_call(gather: Gatherer) -> None:
    client = gather.session.client("stepfunctions", "eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("get_execution_history", {"events": _events(40, 40)},
                          {"executionArn": ARN, "reverseOrder": True, "maxResults": 1000})
        found = history(gather, parse_execution_arn(ARN), limit=1000)
    assert found is not None and found.complete and found.event_count == 40
    assert len(gather.session.call_log) == 1
