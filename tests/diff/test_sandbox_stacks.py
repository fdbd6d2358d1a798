"""diff-stacks against deployed stacks in the sandbox: equal deployments, each configuration fault named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.model import DiffResult

pytestmark = pytest.mark.slow

# fault -> (resource, category, phrase) naming it; any other change is a consequence on that resource
FAULTS = {
    "finder-rule-disabled": ("ExecutionFinderSchedule", "rule", "ENABLED -> DISABLED"),
    "poller-missing-drs-describe": ("ExecutionPollerRole", "iam", "loses drs:DescribeJobs"),
    "orchestrator-missing-follow-on": ("OrchestrationRole", "iam", "loses drs:CreateRecoveryInstanceForDrs"),
    "poller-table-env-mismatch": (
        "ExecutionPollerFunction",
        "env",
        "drs-orchestrator-archive-execution-history",
    ),
    "statemachine-choice-drift": ("RecoveryStateMachine", "statemachine", "'Completed'"),
}


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(run_clock=False) as started:
        yield started


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "sandbox")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "sandbox")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def diff(world: Any, first: str, second: str) -> DiffResult:
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.diff.deployed import load_stack
    from drsdoctor.diff.sources import load_sources

    session = AwsSession(AwsSettings(region=world.region, endpoint_url=world.endpoint_url))
    return diff_sources(
        *load_sources(first, second, {}, {}, lambda name, given: load_stack(session, name, given))
    )


def test_only_the_declared_read_actions_are_called(world: Any, credentials: None) -> None:
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.aws.failures import iam_action
    from drsdoctor.diff import READ_ACTIONS
    from drsdoctor.diff.deployed import load_stack

    session = AwsSession(AwsSettings(region=world.region, endpoint_url=world.endpoint_url))
    load_stack(session, world.stack_name, {})
    called = {iam_action(service, operation) for service, operation in session.call_log.operations()}
    assert called == set(READ_ACTIONS)


def test_healthy_stack_equals_the_reference(world: Any, credentials: None) -> None:
    assert diff(world, "reference", world.stack_name).changes == []


def test_two_deployments_with_different_environment_names_are_identical(
    world: Any, credentials: None
) -> None:
    from drsdoctor.reference import template_text

    stack = world.client("cloudformation").describe_stacks(StackName=world.stack_name)["Stacks"][0]
    parameters = [
        {"ParameterKey": p["ParameterKey"], "ParameterValue": p["ParameterValue"]}
        for p in stack["Parameters"]
        if p["ParameterKey"] != "EnvironmentName"
    ]
    world.client("cloudformation").create_stack(
        StackName="drs-orchestrator-second",
        TemplateBody=template_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[*parameters, {"ParameterKey": "EnvironmentName", "ParameterValue": "second"}],
    )
    result = diff(world, world.stack_name, "drs-orchestrator-second")
    assert result.changes == []


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_reference_against_a_faulty_stack_names_the_fault(world: Any, credentials: None, fault: str) -> None:
    from drsdoctor.sandbox.faults import get

    resource, category, phrase = FAULTS[fault]
    injected = get(fault)
    injected.inject(world)
    try:
        result = diff(world, "reference", world.stack_name)
    finally:
        injected.repair(world)
    top = result.changes[0]
    assert (top.resource, top.category, top.risk) == (resource, category, "high")
    assert any(phrase in c.summary for c in result.changes if c.resource == resource), [
        c.summary for c in result.changes
    ]
    assert {c.resource for c in result.changes} == {resource}
    assert all(c.drift == "b" for c in result.changes if c.path != "Policies.execution-poller.Statement")


def test_a_fault_that_is_not_configuration_shows_no_difference(world: Any, credentials: None) -> None:
    from drsdoctor.sandbox.faults import get

    fault = get("server-launch-failure")
    fault.inject(world)
    try:
        assert diff(world, "reference", world.stack_name).changes == []
    finally:
        fault.repair(world)


def test_cli_exit_codes_against_the_sandbox(world: Any, credentials: None) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "drsdoctor", "diff-stacks", *args, "--region", world.region],
            capture_output=True,
            text=True,
            timeout=180,
            env={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                 "DRSDOCTOR_CALL_LOG": os.environ.get("DRSDOCTOR_CALL_LOG", "")},  # the suite's call recorder
        )

    assert run("reference", world.stack_name, "--endpoint-url", world.endpoint_url).returncode == 0
    unknown = run("reference", "no-such-stack", "--endpoint-url", world.endpoint_url)
    assert unknown.returncode == 2 and "no-such-stack" in unknown.stderr
    unreachable = run("reference", world.stack_name, "--endpoint-url", "http://127.0.0.1:9")
    assert unreachable.returncode == 3 and len(unreachable.stderr.strip().splitlines()) == 1


def test_a_removed_invoke_permission_is_drift(world: Any, credentials: None) -> None:
    lambda_client = world.client("lambda")
    finder = world.function_name("execution-finder")
    policy = json.loads(lambda_client.get_policy(FunctionName=finder)["Policy"])
    [statement] = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    lambda_client.remove_permission(FunctionName=finder, StatementId=statement["Sid"])
    try:
        result = diff(world, "reference", world.stack_name)
    finally:
        lambda_client.add_permission(
            FunctionName=finder,
            StatementId=statement["Sid"],
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        )
    [change] = result.changes
    assert (change.resource, change.kind, change.risk, change.drift) == (
        "ExecutionFinderSchedulePermission",
        "removed",
        "high",
        "b",
    )
    assert "deleted outside CloudFormation" in change.summary
    assert diff(world, "reference", world.stack_name).changes == []


def test_a_deleted_table_is_gone_on_its_side(world: Any, credentials: None) -> None:
    dynamodb = world.client("dynamodb")
    name = world.outputs["ProtectionGroupsTableName"]
    table = dynamodb.describe_table(TableName=name)["Table"]
    items = dynamodb.scan(TableName=name)["Items"]
    dynamodb.delete_table(TableName=name)
    try:
        result = diff(world, "reference", world.stack_name)
    finally:
        dynamodb.create_table(
            TableName=name,
            KeySchema=table["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=table["AttributeDefinitions"],
        )
        for item in items:
            dynamodb.put_item(TableName=name, Item=item)
    [change] = result.changes
    assert (change.resource, change.kind, change.category, change.risk, change.drift) == (
        "ProtectionGroupsTable",
        "removed",
        "table",
        "high",
        "b",
    )
    assert diff(world, "reference", world.stack_name).changes == []
