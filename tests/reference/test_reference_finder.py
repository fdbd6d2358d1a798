"""The execution-finder: every POLLING execution gets one asynchronous poller invocation."""

from __future__ import annotations

import json

import boto3
import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend

from drsdoctor.reference import records


@pytest.fixture
def invocations(monkeypatch):
    """What the finder asked Lambda to run: moto's simple backend is where invocations land."""
    seen = []

    def record(_backend, function_name, _qualifier, body, headers, _response_headers):
        seen.append((function_name, headers.get("X-Amz-Invocation-Type"), json.loads(body)))
        return b""

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", record)
    return seen


def seed(stack, statuses, padding=0):
    table = stack.table("ExecutionHistoryTableName")
    for number, status in enumerate(statuses):
        execution_id = f"arn:aws:states:us-east-1:123456789012:execution:sm:{number}"
        waves = [records.wave(1, "db", ["s-1"])]
        item = records.execution_record(execution_id, "plan-1", waves, status=status)
        table.put_item(Item={**item, "planName": "x" * padding} if padding else item)


def test_the_finder_invokes_the_poller_once_per_polling_execution(stack, invocations):
    seed(stack, ["POLLING", "RUNNING", "POLLING", "COMPLETED", "FAILED", "POLLING"])

    result = stack.run("ExecutionFinderFunction", {"source": "aws.events"})

    poller = stack.outputs["ExecutionPollerFunctionName"]
    assert result["found"] == 3
    assert sorted(event["executionId"].rsplit(":", 1)[1] for _, _, event in invocations) == ["0", "2", "5"]
    assert all(name.endswith(poller) and kind == "Event" for name, kind, _ in invocations)


def test_the_finder_reads_every_page_of_the_status_index(stack, invocations):
    seed(stack, ["POLLING"] * 24, padding=100_000)  # big records: moto pages the query at 1 MB
    first_page = boto3.client("dynamodb").query(
        TableName=stack.outputs["ExecutionHistoryTableName"], IndexName="StatusIndex",
        KeyConditionExpression="#s = :p", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "POLLING"}})
    assert "LastEvaluatedKey" in first_page and first_page["Count"] < 24

    result = stack.run("ExecutionFinderFunction", {})

    assert result["found"] == 24
    assert len({event["executionId"] for _, _, event in invocations}) == 24


def test_the_finder_with_a_missing_index_fails_loudly(stack, invocations, monkeypatch, capsys):
    stack.environments["ExecutionFinderFunction"]["STATUS_INDEX"] = "NoSuchIndex"
    try:
        with pytest.raises(Exception, match=r"NoSuchIndex|index"):
            stack.run("ExecutionFinderFunction", {})
    finally:
        stack.environments["ExecutionFinderFunction"]["STATUS_INDEX"] = "StatusIndex"
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert logged[-1]["level"] == "ERROR" and logged[-1]["index"] == "NoSuchIndex"
    assert invocations == []
