"""Environment normalisation, secret redaction and the per-type differs' judgement of risk."""

from __future__ import annotations

from typing import Any

import pytest

from drsdoctor.diff.differs import diff_properties
from drsdoctor.diff.secrets import looks_secret
from drsdoctor.diff.tokens import Tokeniser, side_concrete_values


def tokeniser(environment: str, physical: dict[str, str] | None = None) -> Tokeniser:
    concrete = side_concrete_values(
        {"EnvironmentName": environment},
        {"EnvironmentName"},
        f"drs-{environment}",
        "123456789012",
        "eu-west-1",
    )
    concrete.update(physical or {})
    made = Tokeniser(concrete)
    made.add_names({"Table": ("AWS::DynamoDB::Table", f"drs-orchestrator-{environment}-history")})
    return made


@pytest.mark.parametrize(
    ("archive", "current"),
    [
        ("drs-orchestrator-archive-history", "drs-orchestrator-current-history"),
        (
            "arn:aws:dynamodb:eu-west-1:123456789012:table/drs-orchestrator-archive-history",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/drs-orchestrator-current-history",
        ),
        (
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/drs-archive-poller:*",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/drs-current-poller:*",
        ),
    ],
)
def test_each_sides_own_names_compare_equal(archive: str, current: str) -> None:
    assert tokeniser("archive").text(archive) == tokeniser("current").text(current)


def test_table_name_and_arn_become_the_resource_token() -> None:
    made = tokeniser("archive")
    assert made.text("drs-orchestrator-archive-history") == "<Table>"
    assert (
        made.text(
            "arn:aws:dynamodb:eu-west-1:123456789012:table/drs-orchestrator-archive-history/index/StatusIndex"
        )
        == "<Table.Arn>/index/StatusIndex"
    )


def test_another_environments_name_stays_visible() -> None:
    assert tokeniser("current").text("drs-orchestrator-archive-history") == "drs-orchestrator-archive-history"


def test_a_word_is_a_token_only_between_separators() -> None:
    assert tokeniser("dev").text("devices-dev") == "devices-${EnvironmentName}"


def test_prose_is_left_alone() -> None:
    value = tokeniser("current").value({"Description": "reads the current wave", "Name": "current"})
    assert value == {"Description": "reads the current wave", "Name": "${EnvironmentName}"}


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("DB_PASSWORD", "x", True),
        ("API_TOKEN", "abc", True),
        ("DATABASE_URL", "postgres://admin:hunter2@db.example.com/app", True),
        ("SIGNING", "8f3Kq9ZxP2mVt7LrW4nB6yHc1JdGs5Ea0uTiOoQe", True),
        ("EXECUTION_TABLE", "drs-orchestrator-archive-execution-history", False),
        ("POLL_INTERVAL_SECONDS", "30", False),
    ],
)
def test_secret_detection(name: str, value: str, secret: bool) -> None:
    assert looks_secret(name, value) is secret


def test_secret_values_are_never_shown() -> None:
    before = {"Environment": {"Variables": {"DB_PASSWORD": "old-hunter2"}}}
    after = {"Environment": {"Variables": {"DB_PASSWORD": "new-hunter3"}}}
    [change] = diff_properties("Fn", "AWS::Lambda::Function", before, after)
    assert "hunter" not in repr(change.to_json())
    assert change.category == "env" and change.risk == "high"


RISKS: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    ("AWS::Events::Rule", {"State": "ENABLED"}, {"State": "DISABLED"}, "State", "high"),
    ("AWS::Events::Rule", {"State": "DISABLED"}, {"State": "ENABLED"}, "State", "medium"),
    (
        "AWS::Events::Rule",
        {"Targets": [{"Id": "t", "Arn": "<A.Arn>"}]},
        {"Targets": [{"Id": "t", "Arn": "<B.Arn>"}]},
        "Targets.t.Arn",
        "high",
    ),
    ("AWS::Events::Rule", {"Targets": [{"Id": "t", "Arn": "<A.Arn>"}]}, {"Targets": []}, "Targets.t", "high"),
    ("AWS::DynamoDB::Table", {"TableName": "a"}, {"TableName": "b"}, "TableName", "high"),
    (
        "AWS::DynamoDB::Table",
        {"BillingMode": "PROVISIONED"},
        {"BillingMode": "PAY_PER_REQUEST"},
        "BillingMode",
        "medium",
    ),
    (
        "AWS::DynamoDB::Table",
        {},
        {"TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True}},
        "TimeToLiveSpecification",
        "medium",
    ),
    ("AWS::Lambda::Function", {"Timeout": 60}, {"Timeout": 3}, "Timeout", "medium"),
    ("AWS::Lambda::Function", {"Handler": "a.handler"}, {"Handler": "b.handler"}, "Handler", "high"),
    (
        "AWS::Lambda::Function",
        {},
        {"ReservedConcurrentExecutions": 0},
        "ReservedConcurrentExecutions",
        "high",
    ),
    (
        "AWS::Lambda::Function",
        {"Tags": [{"Key": "team", "Value": "a"}]},
        {"Tags": [{"Key": "team", "Value": "b"}]},
        "Tags",
        "low",
    ),
    (
        "AWS::IAM::Role",
        {"ManagedPolicyArns": ["arn:x"]},
        {"ManagedPolicyArns": []},
        "ManagedPolicyArns",
        "high",
    ),
    ("AWS::SNS::Topic", {"DisplayName": "a"}, {"DisplayName": "b"}, "DisplayName", "medium"),
]


@pytest.mark.parametrize(
    ("rtype", "before", "after", "path", "risk"),
    RISKS,
    ids=[f"{r[0].split('::')[1]}-{r[3]}-{r[4]}" for r in RISKS],
)
def test_risk_of_each_kind_of_change(
    rtype: str, before: dict[str, Any], after: dict[str, Any], path: str, risk: str
) -> None:
    [change] = diff_properties("R", rtype, before, after)
    assert (change.path, change.risk) == (path, risk)


def test_a_removed_function_does_not_show_its_secrets() -> None:
    from drsdoctor.diff.engine import diff_sides
    from drsdoctor.diff.model import Resource, Side

    function = Resource(
        "Fn",
        "AWS::Lambda::Function",
        {"Environment": {"Variables": {"DB_PASSWORD": "hunter2", "TABLE": "t"}}},
    )
    before = Side("a", "file", {}, set(), {"Fn": function}, {})
    after = Side("b", "file", {}, set(), {}, {})
    [change] = diff_sides(before, after).changes
    assert (
        "hunter2" not in repr(change.to_json()) and change.before["Environment"]["Variables"]["TABLE"] == "t"
    )


SHARED_DEFAULT = """
Parameters:
  ProjectName: {Type: String, Default: drs-orch}
  SourceBucket: {Type: String, Default: drs-orch}
Resources:
  CodeReaderRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub ${ProjectName}-code-reader
      Policies:
        - PolicyName: code
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: s3:GetObject, Resource: !Sub 'arn:aws:s3:::${SourceBucket}/*'}
"""


def test_a_value_becomes_a_placeholder_only_where_its_own_parameter_put_it() -> None:
    from drsdoctor.diff.engine import diff_sources
    from drsdoctor.diff.loader import load_template_text
    from drsdoctor.diff.sides import source_from_template

    template = load_template_text(SHARED_DEFAULT, "shared.yaml")
    result = diff_sources(
        source_from_template(template, "a.yaml", "file", {}),
        source_from_template(template, "b.yaml", "file", {"SourceBucket": "drs-orch-code"}),
    )
    shown = repr([c.to_json() for c in result.changes])
    assert "arn:aws:s3:::drs-orch/*" in shown and "arn:aws:s3:::drs-orch-code/*" in shown
    assert "${ProjectName}/*" not in shown  # the bucket's value is not the project's name


def test_a_value_two_parameters_share_is_no_ones_placeholder() -> None:
    concrete = side_concrete_values({"ProjectName": "drs", "SourceBucket": "drs", "Stage": "prod"},
                                    {"ProjectName", "Stage"})
    assert concrete == {"prod": "${Stage}"}


def test_a_live_value_takes_its_templates_normal_form_where_it_did_not_drift() -> None:
    from drsdoctor.diff.tokens import traced

    made = tokeniser("archive")
    live = {"Bucket": "archive", "Name": "drs-orchestrator-archive-history", "Drifted": "x-archive"}
    plain = {"Bucket": "archive", "Name": "drs-orchestrator-archive-history", "Drifted": "x-old"}
    normal = {"Bucket": "archive", "Name": "<Table>", "Drifted": "x-old"}
    # the bucket parameter's value equals the environment name: it stays a value, as the template wrote it
    assert traced(live, plain, normal, made) == {
        "Bucket": "archive", "Name": "<Table>", "Drifted": "x-${EnvironmentName}"
    }
