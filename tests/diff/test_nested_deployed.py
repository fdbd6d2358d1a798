"""Deployed nested stacks (moto): each child's template and live resources, and a checkout against them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.model import DiffResult
from drsdoctor.diff.sources import load_sources

TREE = Path(__file__).parent / "nested" / "cfn"
LOST = "                  - drs:CreateRecoveryInstanceForDrs\n"
CHILDREN = ("database-stack.yaml", "lambda-stack.yaml", "step-functions-stack.yaml")


@pytest.fixture(scope="module")
def account() -> Iterator[Any]:
    """drs-archive from the checkout; drs-current from it with one DRS action gone from a child role."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                           "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(key, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        import boto3
        from moto import mock_aws

        with mock_aws():
            s3 = boto3.client("s3")
            cloudformation = boto3.client("cloudformation")
            for environment in ("archive", "current"):
                bucket = f"drs-{environment}-templates"
                s3.create_bucket(Bucket=bucket)
                for name in CHILDREN:
                    text = (TREE / name).read_text()
                    if environment == "current":
                        text = text.replace(LOST, "")
                    s3.put_object(Bucket=bucket, Key=f"cfn/{name}", Body=text.encode())
                cloudformation.create_stack(
                    StackName=f"drs-{environment}",
                    TemplateBody=(TREE / "master-template.yaml").read_text(),
                    Parameters=[{"ParameterKey": "Environment", "ParameterValue": environment},
                                {"ParameterKey": "SourceBucket", "ParameterValue": bucket}],
                )
            # a root with one child, that child deleted behind it
            cloudformation.create_stack(StackName="drs-broken", TemplateBody=json.dumps(BROKEN))
            yield boto3


BROKEN = {
    "Resources": {
        "LambdaStack": {
            "Type": "AWS::CloudFormation::Stack",
            "Properties": {
                "TemplateURL": "https://s3.amazonaws.com/drs-archive-templates/cfn/lambda-stack.yaml",
                "Parameters": {"ProjectName": "drs-orch", "Environment": "broken", "HistoryTableName": "h"},
            },
        }
    }
}
READ: dict[str, Any] = {}  # each deployed stack is read once for the module: the tests only compare


def diff(first: str, second: str, given_a: dict[str, str] | None = None) -> DiffResult:
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.diff.deployed import load_stack

    session = AwsSession(AwsSettings(region="us-east-1"))

    def read(name: str, given: Any) -> Any:
        if name not in READ or name == "drs-broken":
            READ[name] = load_stack(session, name, given)
        return READ[name]

    return diff_sources(*load_sources(first, second, given_a or {}, {}, read))


def test_each_nested_stack_is_read_with_its_live_resources(account: Any) -> None:
    result = diff("drs-archive", "drs-archive")
    assert result.changes == [] and result.a.unread == []
    role = result.a.resources["LambdaStack/OrchestrationRole"]
    assert role.live is not None and role.physical_id == "drs-orch-archive-orchestration"
    assert "StepFunctionsStack/RecoveryStateMachine" in result.a.resources


def test_a_child_role_that_lost_one_action_is_the_one_high_change(account: Any) -> None:
    result = diff("drs-archive", "drs-current")
    high = [c for c in result.changes if c.risk == "high"]
    assert [c.resource for c in high] == ["LambdaStack/OrchestrationRole"]
    assert "loses drs:CreateRecoveryInstanceForDrs" in high[0].summary
    # the only other change: each environment's templates came from its own bucket
    assert {c.resource for c in result.changes} == {"LambdaStack/OrchestrationRole", "SourceBucket"}


def test_a_checkout_of_the_archive_equals_the_deployed_archive(account: Any) -> None:
    checkout = str(TREE / "master-template.yaml")
    assert diff(checkout, "drs-archive", {"SourceBucket": "drs-archive-templates"}).changes == []
    against_current = diff(checkout, "drs-current", {"SourceBucket": "drs-current-templates"})
    assert [(c.resource, c.risk) for c in against_current.changes if c.risk == "high"] == [
        ("LambdaStack/OrchestrationRole", "high")
    ]


def test_a_child_that_cannot_be_read_is_named_with_the_reason(account: Any) -> None:
    cloudformation = account.client("cloudformation")
    [child] = [r["PhysicalResourceId"] for r in
               cloudformation.list_stack_resources(StackName="drs-broken")["StackResourceSummaries"]
               if r["LogicalResourceId"] == "LambdaStack"]
    cloudformation.delete_stack(StackName=child)
    result = diff("drs-archive", "drs-broken")
    [note] = [n for n in result.b.unread if n.startswith("LambdaStack:")]
    assert "nested stack not followed" in note and child in note
    assert "LambdaStack/OrchestrationRole" not in result.b.resources
    assert not [c for c in result.changes if c.resource.startswith("LambdaStack/")]
    assert json.dumps(result.to_json())  # the note travels in the JSON side too
