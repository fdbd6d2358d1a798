"""Deployed nested stacks (moto in process): followed on both sides; drift in a child named by its path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

CHILD = """
Parameters:
  EnvironmentName: {Type: String}
Resources:
  FinderRule:
    Type: AWS::Events::Rule
    Properties:
      Name: !Sub drs-${EnvironmentName}-finder
      ScheduleExpression: rate(1 minute)
      State: ENABLED
"""
PARENT = {
    "Parameters": {"EnvironmentName": {"Type": "String"}},
    "Resources": {
        "Orchestrator": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": "https://drs-templates.s3.amazonaws.com/child.yaml",
                "Parameters": {"EnvironmentName": {"Ref": "EnvironmentName"}},
            },
        }
    },
}


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="drs-templates")
        s3.put_object(Bucket="drs-templates", Key="child.yaml", Body=CHILD.encode())
        cloudformation = boto3.client("cloudformation")
        for environment in ("archive", "current"):
            cloudformation.create_stack(
                StackName=f"drs-{environment}",
                TemplateBody=json.dumps(PARENT),
                Parameters=[{"ParameterKey": "EnvironmentName", "ParameterValue": environment}],
            )
        yield boto3


def diff(first: str, second: str) -> list[Any]:
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.diff.deployed import load_stack
    from drsdoctor.diff.engine import diff_sources
    from drsdoctor.diff.sources import load_sources

    session = AwsSession(AwsSettings(region="us-east-1"))
    return diff_sources(*load_sources(first, second, {}, {}, lambda n, g: load_stack(session, n, g))).changes


def test_nested_stacks_of_two_environments_are_identical(account: Any) -> None:
    assert diff("drs-archive", "drs-current") == []


def test_drift_inside_a_nested_stack_is_named_with_its_path(account: Any) -> None:
    account.client("events").disable_rule(Name="drs-current-finder")
    [change] = diff("drs-archive", "drs-current")
    assert (change.resource, change.path, change.risk, change.drift) == (
        "Orchestrator/FinderRule",
        "State",
        "high",
        "b",
    )
