"""Who may EventBridge invoke: a function's resource policy judged for a schedule rule, and rate periods."""

from __future__ import annotations

from typing import Any

import pytest

from drsdoctor.sandbox.scheduler import events_may_invoke, rate_minutes

ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:drs-orchestrator-dev-execution-finder"
RULE = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/drs-orchestrator-dev-execution-finder-schedule"
RULE_PREFIX = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/"
OTHER_RULE = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/another-rule"


def statement(**overrides: Any) -> dict[str, Any]:
    base = {"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": FUNCTION,
            "Condition": {"ArnLike": {"AWS:SourceArn": RULE}}}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


@pytest.mark.parametrize(("name", "statements", "rule", "allowed"), [
    ("the permission CloudFormation deploys", [statement()], RULE, True),
    ("a permission for another rule", [statement()], OTHER_RULE, False),
    ("no resource policy at all", [], RULE, False),
    ("a permission for another principal", [statement(Principal={"Service": "s3.amazonaws.com"})], RULE,
     False),
    ("a permission with no SourceArn condition", [statement(Condition=None)], RULE, True),
    ("a wildcard rule ARN", [statement(Condition={"ArnLike": {"AWS:SourceArn": RULE_PREFIX + "*"}})],
     OTHER_RULE, True),
    ("ArnEquals for the rule", [statement(Condition={"ArnEquals": {"aws:sourcearn": RULE}})], RULE, True),
    ("an explicit deny beside the allow", [statement(), statement(Sid="deny", Effect="Deny")], RULE, False),
    ("another action only", [statement(Action="lambda:GetFunction")], RULE, False),
    ("lambda:* covers invoke", [statement(Action="lambda:*")], RULE, True),
])
def test_events_may_invoke(name: str, statements: list[dict[str, Any]], rule: str, allowed: bool) -> None:
    policy = {"Version": "2012-10-17", "Statement": statements} if statements else None
    assert events_may_invoke(policy, FUNCTION, rule, ACCOUNT) is allowed, name


@pytest.mark.parametrize(("expression", "minutes"), [
    ("rate(1 minute)", 1), ("rate(5 minutes)", 5), ("rate(2 hours)", 120), ("rate(1 day)", 1440),
    ("cron(0/5 * * * ? *)", None), (None, None),
])
def test_rate_minutes(expression: str | None, minutes: int | None) -> None:
    assert rate_minutes(expression) == minutes
