"""IAM per role: statements compared as sets, the effective change as actions gained and lost."""

from __future__ import annotations

from typing import Any

import pytest

from drsdoctor.diff.iam_diff import diff_role_permissions


def policy(*statements: dict[str, Any]) -> list[tuple[str, Any]]:
    return [("poller", {"Version": "2012-10-17", "Statement": list(statements)})]


JOBS = {"Sid": "ReadJobs", "Effect": "Allow", "Action": "drs:DescribeJobs", "Resource": "*"}
LOGS = {"Effect": "Allow", "Action": ["drs:DescribeJobLogItems"], "Resource": "arn:aws:drs:*:*:job/*"}
TABLE = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"], "Resource": "<Table.Arn>"}


def effective(changes: list[Any]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.risk, c.summary) for c in changes if c.path == "EffectivePermissions"]


CASES = [
    ("reordered statements", policy(JOBS, LOGS), policy(LOGS, JOBS), []),
    ("sid renamed", policy(JOBS), policy({**JOBS, "Sid": "Other"}), []),
    (
        "action case and order",
        policy(TABLE),
        policy({**TABLE, "Action": ["DynamoDB:updateitem", "dynamodb:GetItem"]}),
        [],
    ),
    (
        "statement removed",
        policy(JOBS, LOGS),
        policy(LOGS),
        [("removed", "high", "PollerRole loses drs:DescribeJobs")],
    ),
    (
        "wildcard narrowed",
        policy({**JOBS, "Action": "drs:DescribeJob*"}),
        policy(JOBS),
        [("removed", "high", "PollerRole loses drs:DescribeJobLogItems")],
    ),
    (
        "wildcard covering the same",
        policy(JOBS, LOGS),
        policy({"Effect": "Allow", "Action": "drs:DescribeJob*", "Resource": "*"}),
        [("added", "medium", "PollerRole gains drs:DescribeJobLogItems (broadening)")],
    ),
    (
        "explicit deny added",
        policy(JOBS),
        policy(JOBS, {"Effect": "Deny", "Action": "drs:*", "Resource": "*"}),
        [("removed", "high", "PollerRole loses drs:DescribeJobs")],
    ),
    (
        "resource narrowed",
        policy({**TABLE, "Resource": ["<Table.Arn>", "<Other.Arn>"]}),
        policy(TABLE),
        [("modified", "high", "PollerRole keeps dynamodb:GetItem, dynamodb:UpdateItem on fewer resources")],
    ),
    (
        "logs only lost is medium",
        policy({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}),
        policy(),
        [("removed", "medium", "PollerRole loses logs:PutLogEvents")],
    ),
]


@pytest.mark.parametrize(("name", "before", "after", "expected"), CASES, ids=[c[0] for c in CASES])
def test_effective_change(name: str, before: Any, after: Any, expected: list[Any]) -> None:
    changes = diff_role_permissions("PollerRole", "AWS::IAM::Role", before, after)
    assert effective(changes) == expected
    if not expected:
        assert changes == []


def test_statement_changes_are_listed_for_the_table() -> None:
    changes = diff_role_permissions("PollerRole", "AWS::IAM::Role", policy(JOBS, LOGS), policy(LOGS, TABLE))
    rows = {(c.kind, c.path) for c in changes if c.path != "EffectivePermissions"}
    assert rows == {("removed", "Policies.poller.Statement"), ("added", "Policies.poller.Statement")}


def test_broad_allow_added_is_flagged() -> None:
    changes = diff_role_permissions(
        "PollerRole",
        "AWS::IAM::Role",
        policy(JOBS),
        policy(JOBS, {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
    )
    assert any("broadening" in c.summary for c in changes if c.path.endswith("Statement"))


def test_removed_deny_is_flagged_as_broadening() -> None:
    everything = {"Effect": "Allow", "Action": "drs:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "drs:StartRecovery", "Resource": "*"}
    changes = diff_role_permissions(
        "PollerRole", "AWS::IAM::Role", policy(everything, deny), policy(everything)
    )
    assert any("broadening: a Deny is gone" in c.summary for c in changes)
    assert ("added", "medium", "PollerRole gains drs:StartRecovery (broadening)") in effective(changes)


def test_a_narrower_replacement_is_not_broadening() -> None:
    narrower = {**JOBS, "Action": ["drs:DescribeJobs"], "Resource": "*", "Sid": "Jobs"}
    changes = diff_role_permissions(
        "PollerRole", "AWS::IAM::Role", policy({**JOBS, "Action": "drs:Describe*"}), policy(narrower)
    )
    assert not any("broadening" in c.summary for c in changes)


def test_tokens_are_not_taken_for_policy_variables() -> None:
    scoped = {
        "Effect": "Allow",
        "Action": "drs:DescribeJobLogItems",
        "Resource": "arn:aws:drs:${AWS::Region}:${AWS::AccountId}:job/*",
    }
    changes = diff_role_permissions("PollerRole", "AWS::IAM::Role", policy(scoped), policy())
    assert effective(changes) == [("removed", "high", "PollerRole loses drs:DescribeJobLogItems")]
