"""The diff engine on small templates: renamed resources, conditions, nested stacks, drift and its side."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from drsdoctor.diff.engine import diff_sides, diff_sources
from drsdoctor.diff.model import Resource, Side
from drsdoctor.diff.sides import source_from_template
from drsdoctor.diff.sources import load_sources

POLLER = {
    "Type": "AWS::Lambda::Function",
    "Properties": {
        "FunctionName": {"Fn::Sub": "drs-${EnvironmentName}-execution-poller"},
        "Handler": "execution_poller.handler",
        "Runtime": "python3.12",
        "Role": {"Fn::GetAtt": ["PollerRole", "Arn"]},
        "Environment": {"Variables": {"TABLE": {"Ref": "History"}}},
    },
}
HISTORY = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {"TableName": {"Fn::Sub": "drs-${EnvironmentName}-h"}},
}
ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {"RoleName": {"Fn::Sub": "drs-${EnvironmentName}-poller-role"}},
}


def template(resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "Parameters": {"EnvironmentName": {"Type": "String", "Default": "dev"}},
        "Resources": resources,
        **extra,
    }


def diff(a: dict[str, Any], b: dict[str, Any], given_b: dict[str, str] | None = None) -> list[Any]:
    return diff_sources(
        source_from_template(a, "a.yaml", "file", {}),
        source_from_template(b, "b.yaml", "file", given_b or {}),
    ).changes


def test_renamed_resource_is_matched_by_role_and_references_follow() -> None:
    before = template({"PollerFunction": POLLER, "History": HISTORY, "PollerRole": ROLE})
    renamed = dict(
        POLLER, Properties=dict(POLLER["Properties"], Role={"Fn::GetAtt": ["ExecutionPollerRole", "Arn"]})
    )
    after = template({"ExecutionPollerFunction": renamed, "History": HISTORY, "ExecutionPollerRole": ROLE})
    changes = diff(before, after)
    assert {(c.path, c.risk) for c in changes} == {("LogicalId", "low")}
    assert {c.before for c in changes} == {"PollerFunction", "PollerRole"}


def test_removed_function_is_high_and_added_one_medium() -> None:
    changes = diff(
        template({"PollerFunction": POLLER, "History": HISTORY, "PollerRole": ROLE}),
        template({"History": HISTORY, "PollerRole": ROLE, "Topic": {"Type": "AWS::SNS::Topic"}}),
    )
    assert {(c.resource, c.kind, c.risk) for c in changes} == {
        ("PollerFunction", "removed", "high"),
        ("Topic", "added", "medium"),
    }


def test_conditions_are_decided_with_real_parameter_values() -> None:
    conditional = template(
        {"History": HISTORY, "Alarm": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"}},
        Conditions={"IsProd": {"Fn::Equals": [{"Ref": "EnvironmentName"}, "prod"]}},
    )
    assert diff(conditional, conditional) == []
    [change] = diff(conditional, conditional, {"EnvironmentName": "prod"})
    assert (change.resource, change.kind) == ("Alarm", "added")


def test_nested_stack_templates_are_followed(tmp_path: Path) -> None:
    child = template({"PollerFunction": POLLER, "History": HISTORY, "PollerRole": ROLE})
    (tmp_path / "child.yaml").write_text(yaml.safe_dump(child))
    broken = yaml.safe_load(yaml.safe_dump(child))
    broken["Resources"]["PollerFunction"]["Properties"]["Handler"] = "other.handler"
    (tmp_path / "child-broken.yaml").write_text(yaml.safe_dump(broken))
    for name, url in (("parent.yaml", "child.yaml"), ("parent-broken.yaml", "child-broken.yaml")):
        nested = {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": url, "Parameters": {"EnvironmentName": {"Ref": "EnvironmentName"}}},
        }
        (tmp_path / name).write_text(yaml.safe_dump(template({"Orchestrator": nested})))
    result = diff_sources(
        *load_sources(str(tmp_path / "parent.yaml"), str(tmp_path / "parent-broken.yaml"), {}, {}, None)
    )
    assert [(c.resource, c.path, c.risk) for c in result.changes if c.path != "TemplateURL"] == [
        ("Orchestrator/PollerFunction", "Handler", "high")
    ]


def side(label: str, live: dict[str, Any] | None) -> Side:
    rule = Resource(
        "FinderRule", "AWS::Events::Rule", {"State": "ENABLED", "ScheduleExpression": "rate(1 minute)"}, live
    )
    return Side(label, "stack", {}, set(), {"FinderRule": rule}, {})


def test_a_console_edit_is_drift_on_the_side_that_has_it() -> None:
    [change] = diff_sides(
        side("archive", {"State": "ENABLED"}), side("current", {"State": "DISABLED"})
    ).changes
    assert (change.path, change.risk, change.drift) == ("State", "high", "b")


def test_drift_on_both_sides_alike_is_still_reported() -> None:
    changes = diff_sides(
        side("archive", {"State": "DISABLED"}), side("current", {"State": "DISABLED"})
    ).changes
    assert sorted(c.drift for c in changes) == ["a", "b"]
    assert all("live differs from its template" in c.summary for c in changes)


def test_no_credentials_exits_3_in_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "drsdoctor",
            "diff-stacks",
            "reference",
            "some-stack",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "credentials" in done.stderr


def test_a_standalone_policy_counts_for_the_role_it_is_attached_to() -> None:
    def with_actions(*actions: str) -> dict[str, Any]:
        policy = {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "poller-drs",
                "Roles": [{"Ref": "PollerRole"}],
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]
                },
            },
        }
        return template({"PollerRole": ROLE, "PollerDrs": policy})

    changes = diff(
        with_actions("drs:DescribeJobs", "drs:DescribeJobLogItems"), with_actions("drs:DescribeJobLogItems")
    )
    lost = [c for c in changes if c.path == "EffectivePermissions"]
    assert [(c.resource, c.risk, c.summary) for c in lost] == [
        ("PollerRole", "high", "PollerRole loses drs:DescribeJobs")
    ]


def test_an_arn_built_with_sub_equals_getatt_and_a_literal_name_equals_ref() -> None:
    def poller(table_arn: Any, table_name: Any) -> dict[str, Any]:
        variables = {"TABLE_ARN": table_arn, "TABLE": table_name}
        properties = dict(POLLER["Properties"], Environment={"Variables": variables})
        return template(
            {"PollerFunction": dict(POLLER, Properties=properties), "History": HISTORY, "PollerRole": ROLE}
        )

    symbolic = poller({"Fn::GetAtt": ["History", "Arn"]}, {"Ref": "History"})
    spelled = poller(
        {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/drs-dev-h"},
        "drs-dev-h",
    )
    assert diff(symbolic, spelled) == []
    other = poller({"Fn::GetAtt": ["History", "Arn"]}, "drs-prod-h")
    [change] = diff(symbolic, other)
    assert (change.path, change.category, change.risk) == ("Environment.Variables.TABLE", "env", "high")


def test_a_resource_whose_live_state_was_not_read_is_said_in_every_format() -> None:
    import json

    from drsdoctor.diff.render import render_markdown, render_text, to_json

    current = side("current", None)
    note = ("FinderRule: live configuration not read (events:DescribeRule AccessDeniedException, needs "
            "events:DescribeRule); compared by its template alone, drift unseen")
    current.unread = [note]
    result = diff_sides(side("archive", None), current)
    assert result.identical  # the templates agree: the note is what tells the operator drift was not checked
    assert f"not read current: {note}" in render_text(result)
    assert f"> not read: current: {note}" in render_markdown(result)
    described = json.loads(to_json(result))
    assert described["b"]["unread"] == [note] and described["a"]["unread"] == []
