"""What the sandbox changes in moto is undone when the world closes, whatever moto imported meanwhile."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import boto3
from boto3.dynamodb.types import Binary
from moto import mock_aws

from drsdoctor.sandbox import motopatch

T = TypeVar("T")

# In a fresh interpreter, so that moto's Step Functions responses are first imported while the world's changes
# are in place: afterwards, a plain moto mock must get moto's own (non-executing) backend again.
AFTER_A_WORLD = """
from drsdoctor.sandbox import motopatch
motopatch.install(clock=None, runtime=None)
import moto.stepfunctions.responses as responses
motopatch.uninstall()
print(type(responses.get_backend("123456789012", "us-east-1")).__name__)
"""


def test_a_plain_moto_mock_after_a_world_gets_moto_s_own_step_functions_backend() -> None:
    done = subprocess.run([sys.executable, "-c", AFTER_A_WORLD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # the executing backend would run every execution a later test starts, Lambda tasks and all
    assert done.stdout.strip() == "StepFunctionBackend"


# Every kind of attribute value, nested, binary ones included (those keep moto's own path).
EVERY_KIND = {
    "executionId": "arn:aws:states:us-east-1:123456789012:execution:machine:run",
    "text": "wave one", "number": Decimal("42.5"), "flag": True, "nothing": None,
    "texts": {"a", "b"}, "numbers": {Decimal(1), Decimal(2)}, "blob": Binary(b"\x00\xffraw"),
    "blobs": {Binary(b"x"), Binary(b"y")},
    "waves": [{"sourceServerIds": [f"s-{index:017d}" for index in range(3)], "jobIds": [],
               "started": {"at": "2024-01-01T00:00:00Z", "inner": [Binary(b"deep"), 7]}}],
}


def _answers_of_every_kind() -> tuple[dict[str, Any], dict[str, Any]]:
    """GetItem and Query for one item holding every kind of value: plain DynamoDB JSON off the wire."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="records", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "executionId", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "executionId", "AttributeType": "S"}])
    boto3.resource("dynamodb", region_name="us-east-1").Table("records").put_item(Item=EVERY_KIND)
    key = {"executionId": {"S": EVERY_KIND["executionId"]}}
    got = client.get_item(TableName="records", Key=key)
    queried = client.query(TableName="records", KeyConditionExpression="executionId = :id",
                           ExpressionAttributeValues={":id": key["executionId"]})
    return got["Item"], queried["Items"][0]


def plain_and_patched(scenario: Callable[[], T]) -> tuple[T, T]:
    """What a scenario's clients read from plain moto, then from moto with the sandbox's JSON serializing."""
    with mock_aws():
        plain = scenario()
    motopatch._patch_json_structures()
    try:
        with mock_aws():
            return plain, scenario()
    finally:
        motopatch.uninstall()


def test_attribute_values_in_wire_form_answer_exactly_what_moto_s_serializer_answers() -> None:
    plain, patched = plain_and_patched(_answers_of_every_kind)
    assert patched == plain
    assert plain[0]["blob"] == {"B": b"\x00\xffraw"}  # binary still decoded, so the comparison saw it


def test_only_values_already_in_wire_form_skip_moto_s_serializer() -> None:
    assert motopatch.in_wire_form({"M": {"ids": {"L": [{"S": "s-1"}, {"N": "2"}]}, "on": {"BOOL": True}}})
    assert motopatch.in_wire_form({"SS": ["a"]}) and motopatch.in_wire_form({"NULL": True})
    assert not motopatch.in_wire_form({"B": b"raw"})
    assert not motopatch.in_wire_form({"L": [{"S": "a"}, {"BS": [b"x"]}]})  # binary, however deep
    assert not motopatch.in_wire_form({"S": "a", "N": "1"})  # not one attribute value
    assert not motopatch.in_wire_form({"N": 1})  # a number moto did not hold as text


DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
                                                       "Done": {"Type": "Succeed"}}})


def _answers_of_json_services() -> list[Any]:
    """What a client reads back from the JSON-protocol services diagnose asks (Step Functions, DynamoDB,
    CloudWatch Logs, EventBridge): timestamps, nested structures, lists and maps among them."""
    region = {"region_name": "us-east-1"}
    sfn, logs, events = (boto3.client(name, **region) for name in ("stepfunctions", "logs", "events"))
    machine = sfn.create_state_machine(name="machine", definition=DEFINITION,
                                       roleArn="arn:aws:iam::123456789012:role/machine")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="run",
                                    input='{"planId": "p"}')["executionArn"]
    logs.create_log_group(logGroupName="/aws/lambda/finder")
    logs.create_log_stream(logGroupName="/aws/lambda/finder", logStreamName="stream")
    logs.put_log_events(logGroupName="/aws/lambda/finder", logStreamName="stream",
                        logEvents=[{"timestamp": 1_700_000_000_000, "message": "ERROR AccessDenied"}])
    events.put_rule(Name="schedule", ScheduleExpression="rate(1 minute)", State="DISABLED")
    target = "arn:aws:lambda:us-east-1:123456789012:function:finder"
    events.put_targets(Rule="schedule", Targets=[{"Id": "finder", "Arn": target, "Input": '{"a": 1}'}])
    answers = [sfn.describe_state_machine(stateMachineArn=machine),
               sfn.describe_execution(executionArn=execution),
               sfn.get_execution_history(executionArn=execution),
               sfn.list_executions(stateMachineArn=machine),
               logs.describe_log_streams(logGroupName="/aws/lambda/finder"),
               logs.filter_log_events(logGroupName="/aws/lambda/finder", filterPattern="ERROR"),
               events.describe_rule(Name="schedule"), events.list_targets_by_rule(Rule="schedule"),
               events.list_rule_names_by_target(TargetArn=target)]
    return [_comparable(answer) for answer in answers]


def _comparable(value: Any) -> Any:
    """An answer without what differs between two runs: request ids, and the moments things were made."""
    if isinstance(value, dict):
        return {key: "a moment" if key.endswith(("Time", "Timestamp")) and isinstance(item, int)
                else _comparable(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return "a datetime"  # parsed as one: serialized in the model's format
    return value


def test_json_answers_built_key_by_key_are_what_moto_s_serializer_answers() -> None:
    plain, patched = plain_and_patched(_answers_of_json_services)
    assert patched == plain
    history = plain[2]["events"]
    assert history and all(event["timestamp"] == "a datetime" for event in history)
