"""`drsdoctor permissions` is sufficient and minimal, proven in one sandbox world with IAM authorisation on.

Sufficient: an IAM user holding exactly the printed policy diagnoses a healthy run with no `error` finding
and no missing fact. Minimal: without any one of its actions, some `error` finding names that action. To
stay fast, actions are taken away in groups; a denial can keep later calls from being made (no GetRole, no
GetRolePolicy), so a group never holds two links of one chain of calls, and an action that no finding
named is tried again alone before the test fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.commands.permissions import optional_actions, policy, policy_document, required_actions
from drsdoctor.snapshot import fact_actions

slow = pytest.mark.slow  # the tests of the one sandbox world; the policy's own tests are pure

# What the one diagnose of an execution calls: the facts' required actions.
# A DRS recovery plan's reads: proven in its own world (tests/diagnose/test_recovery_plan.py).
PLAN_ACTIONS = {"drs:GetRecoveryPlanExecution", "drs:ListRecoveryPlanExecutionSteps",
                "drs:GetRecoveryPlanExecutionStep", "drs:ListRecoveryPlanExecutions"}
DIAGNOSE_ACTIONS = sorted({action for actions in fact_actions().values() for action in actions}
                          - set(optional_actions()) - PLAN_ACTIONS)
# Groups taken away at once: within a group no action's denial keeps another's call from being made, or
# leaves a fact so empty that its error names only the first failed call (DescribeStacks, GetTemplate).
GROUPS: list[set[str]] = [
    {"states:DescribeExecution"},  # alone: without it nothing is diagnosed, one line names it (exit 3)
    {"states:DescribeStateMachine", "iam:GetPolicy"},
    {"lambda:GetFunction", "states:GetExecutionHistory", "iam:GetRole", "cloudformation:GetTemplate"},
    {"cloudformation:ListStacks", "lambda:ListFunctions", "iam:ListRolePolicies", "drs:DescribeJobs",
     "events:ListRuleNamesByTarget", "dynamodb:DescribeTable"},
    {"cloudformation:ListStackResources", "iam:GetRolePolicy", "lambda:GetPolicy", "logs:DescribeLogStreams",
     "events:DescribeRule", "drs:DescribeJobLogItems", "dynamodb:Query"},
    {"cloudformation:DescribeStacks", "iam:ListAttachedRolePolicies",
     "lambda:GetFunctionConcurrency", "logs:FilterLogEvents", "events:ListTargetsByRule"},
    {"iam:GetPolicyVersion"},
]
# Actions of other commands: `diagnose --state-machine` lists executions; diff-stacks reads live resources.
FLEET_ACTIONS = {"states:ListExecutions"}
# diff-stacks reads these for live functions and tables; denied, it compares them by their template alone.
DIFF_ONLY = {"dynamodb:DescribeTimeToLive", "lambda:GetFunctionConfiguration"}


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(authorize=True) as started:
        # A customer managed policy on the poller's role, as most real roles have: GetPolicy is then called.
        iam = started.client("iam")
        document = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"}]}
        managed = iam.create_policy(PolicyName="drs-orchestrator-sandbox-log-groups",
                                    PolicyDocument=json.dumps(document))
        iam.attach_role_policy(RoleName=_role_of(started, "execution-poller"),
                               PolicyArn=managed["Policy"]["Arn"])
        yield started


@pytest.fixture(scope="module")
def healthy_run(world: Any) -> str:
    arn = world.start_recovery()
    assert world.run_until_settled(arn).status == "SUCCEEDED"
    return str(arn)


def _role_of(world: Any, function: str) -> str:
    config = world.client("lambda").get_function_configuration(FunctionName=world.function_name(function))
    return str(config["Role"]).rsplit("/", 1)[-1]


_users = iter(range(1, 1000))


def _operator(world: Any, monkeypatch: pytest.MonkeyPatch, without: Iterable[str] = ()) -> AwsSession:
    """A session of a new IAM user whose one policy is `drsdoctor permissions`' minus `without`."""
    iam = world.client("iam")
    name = f"operator-{next(_users)}"
    iam.create_user(UserName=name)
    kept = {action: why for action, why in required_actions().items() if action not in set(without)}
    iam.put_user_policy(UserName=name, PolicyName="drsdoctor-read",
                        PolicyDocument=json.dumps(policy_document(kept)))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return AwsSession(AwsSettings(region=world.region, endpoint_url=world.endpoint_url))


def _named_in_errors(world: Any, arn: str, monkeypatch: pytest.MonkeyPatch, denied: set[str]) -> set[str]:
    """Of the denied actions, those some `error` finding names."""
    from drsdoctor.collect.gather import ExecutionUnreadable
    from drsdoctor.commands.diagnose import diagnose_execution

    try:
        _, report = diagnose_execution(arn, _operator(world, monkeypatch, denied))
    except ExecutionUnreadable as unreadable:  # the execution itself: no report, one line says why
        details = [str(unreadable)]
    else:
        details = [f"{f.detail} {' '.join(f.evidence)}" for f in report.findings if f.status == "error"]
    return {action for action in denied if any(action in detail for detail in details)}


# ---- sufficient ----------------------------------------------------------------------------------------

@slow
def test_the_exact_policy_diagnoses_a_healthy_run_with_no_error(world: Any, healthy_run: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from drsdoctor.commands.diagnose import diagnose_execution

    session = _operator(world, monkeypatch)
    snap, report = diagnose_execution(healthy_run, session)
    assert snap.fact_errors == []
    assert [f"{f.check} {f.detail}" for f in report.findings if f.status == "error"] == []
    assert report.root_cause is None and report.exit_code == exitcodes.OK
    assert sorted(f.kind for f in snap.functions) == ["finder", "orchestration", "poller"]
    assert snap.stack is not None and snap.execution_record is not None and snap.job_log_items
    # what the policy leaves out on purpose is said, not missing; the local evaluator decides the roles
    for optional in ("states:ListTagsForResource", "drs:DescribeSourceServers", "dynamodb:ListTables"):
        assert any(note.startswith(f"{optional} is not allowed") for note in snap.notes), snap.notes
    assert snap.role_decisions and {role.engine for role in snap.role_decisions} == {"local"}


@slow
def test_moto_judges_outside_callers_but_not_the_world(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import ClientError

    session = _operator(world, monkeypatch, without={"states:DescribeStateMachine"})
    with pytest.raises(ClientError) as denied:
        session.client("stepfunctions").describe_state_machine(stateMachineArn=world.state_machine_arn)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "states:DescribeStateMachine" in denied.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as ungranted:  # a read the policy does not grant (an optional one)
        session.client("dynamodb").list_tables()
    assert ungranted.value.response["Error"]["Code"] == "AccessDeniedException"
    # an unsigned call, or one signed with a key no user holds, is refused as AWS refuses it
    unsigned = boto3.client("stepfunctions", region_name=world.region, endpoint_url=world.endpoint_url,
                            config=Config(signature_version=UNSIGNED))
    stranger = boto3.client("stepfunctions", region_name=world.region, endpoint_url=world.endpoint_url,
                            aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as refused:
        stranger.list_state_machines()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as refused:  # moto routes it by host, not to Step Functions: its words
        unsigned.list_state_machines()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "MissingAuthenticationToken" in str(refused.value)
    # the world's own clients are not judged
    assert world.client("stepfunctions").describe_state_machine(stateMachineArn=world.state_machine_arn)


# ---- minimal -------------------------------------------------------------------------------------------

def test_the_groups_cover_every_action_diagnose_needs_once() -> None:
    grouped = [action for group in GROUPS for action in group]
    assert sorted(grouped) == DIAGNOSE_ACTIONS
    # and every action of the policy is proven below, by diagnose or by the command that calls it
    assert set(required_actions()) == set(DIAGNOSE_ACTIONS) | FLEET_ACTIONS | DIFF_ONLY | PLAN_ACTIONS


@slow
def test_without_any_one_action_an_error_names_it(world: Any, healthy_run: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    unnamed: set[str] = set()
    for group in GROUPS:
        unnamed |= group - _named_in_errors(world, healthy_run, monkeypatch, group)
    # a denial in the group may have kept this action's call from being made: alone, it must be named
    still = sorted(action for action in unnamed
                   if action not in _named_in_errors(world, healthy_run, monkeypatch, {action}))
    assert still == [], f"not needed by diagnose (or not named when denied): {still}"


@slow
def test_listing_a_machines_executions_needs_list_executions(world: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from drsdoctor.collect.fleet import Selection
    from drsdoctor.commands.diagnose_fleet import diagnose_machine
    from drsdoctor.errors import AwsCallError

    with pytest.raises(AwsCallError) as refused:
        diagnose_machine(world.state_machine_arn, _operator(world, monkeypatch, FLEET_ACTIONS),
                         Selection("RUNNING"))
    assert "states:ListExecutions" in str(refused.value)
    assert diagnose_machine(world.state_machine_arn, _operator(world, monkeypatch), Selection("RUNNING"))


@slow
def test_diff_stacks_sees_live_functions_and_tables_only_with_its_own_two_actions(
        world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from drsdoctor.diff.deployed import read_stack

    template, _, granted = read_stack(_operator(world, monkeypatch), world.stack_name, world.region)
    live = {logical_id for logical_id, body in template["Resources"].items()
            if body["Type"] in ("AWS::Lambda::Function", "AWS::DynamoDB::Table")}
    assert len(live) >= 6 and live <= set(granted.live)
    assert granted.unread == []
    _, _, denied = read_stack(_operator(world, monkeypatch, DIFF_ONLY), world.stack_name, world.region)
    assert live.isdisjoint(denied.live)  # drift in their live configuration would go unseen...
    # ...and the comparison says so, naming each resource and the permission it lacked
    assert {note.split(":", 1)[0] for note in denied.unread} == live
    for action in DIFF_ONLY:
        assert any(f"needs {action}" in note for note in denied.unread), (action, denied.unread)


# ---- the command ---------------------------------------------------------------------------------------

def test_the_command_prints_exactly_the_policy_the_tests_grant() -> None:
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "permissions"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == policy_document(required_actions()) == policy()


def test_the_policy_allows_only_reads_one_statement_a_service() -> None:
    statements = policy()["Statement"]
    services = [statement["Action"][0].split(":")[0] for statement in statements]
    assert services == sorted(set(services))
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        for action in statement["Action"]:
            service, operation = action.split(":")
            assert service == statement["Action"][0].split(":")[0]
            assert operation.startswith(("Describe", "Get", "List", "Query", "Filter")), action


def test_optional_actions_are_granted_only_on_request_each_saying_what_it_adds() -> None:
    optional = optional_actions()
    assert "iam:SimulatePrincipalPolicy" in optional and "SCP" in optional["iam:SimulatePrincipalPolicy"]
    assert all(len(why.split()) >= 5 for why in optional.values())
    assert not set(optional) & set(required_actions())
    statements = policy(include_optional=True)["Statement"]
    granted = {action for statement in statements for action in statement["Action"]}
    assert granted == set(required_actions()) | set(optional)


def test_the_text_format_names_each_optional_action_and_what_it_adds() -> None:
    from click.testing import CliRunner

    from drsdoctor.commands.permissions import permissions

    text = CliRunner().invoke(permissions, ["--format", "text"]).output
    assert f"{len(required_actions())} read-only actions" in text
    for action, why in optional_actions().items():
        assert any(line.startswith(action) and why in line for line in text.splitlines()), action
