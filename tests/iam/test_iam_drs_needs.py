"""The DRS knowledge others build on: every role kind's needs, the follow-on set, the action lists."""

from __future__ import annotations

import pytest

from drsdoctor.errors import InputError
from drsdoctor.iam.actions import SERVICES, actions_for_service, expand_action_pattern
from drsdoctor.iam.drs_needs import ROLE_KINDS, actions_for, follow_on_actions, follow_on_needs, needs_for


@pytest.mark.parametrize("kind", ROLE_KINDS)
def test_every_need_is_a_real_action_with_a_reason_and_a_source(kind: str) -> None:
    needs = needs_for(kind)
    assert needs
    for need in needs:
        assert expand_action_pattern(need.action) == {need.action}, f"{need.action} is not a known action"
        assert need.why
        assert need.source.startswith("https://docs.aws.amazon.com/")


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("orchestration", "drs:StartRecovery"),
        ("orchestration", "drs:CreateRecoveryInstanceForDrs"),
        ("orchestration", "iam:PassRole"),
        ("orchestration", "ec2:RunInstances"),
        ("orchestration", "dynamodb:PutItem"),
        ("finder", "dynamodb:Query"),
        ("finder", "lambda:InvokeFunction"),
        ("poller", "drs:DescribeJobs"),
        ("poller", "drs:DescribeJobLogItems"),
        ("poller", "dynamodb:UpdateItem"),
        ("statemachine", "lambda:InvokeFunction"),
    ],
)
def test_the_issue_s_needs_are_present(kind: str, action: str) -> None:
    assert action in actions_for(kind)


def test_follow_on_actions_are_what_drs_does_with_the_caller_s_credentials() -> None:
    follow_on = follow_on_actions()
    assert {
        "drs:CreateRecoveryInstanceForDrs",
        "drs:ListTagsForResource",
        "iam:PassRole",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:RunInstances",
        "ec2:CreateVolume",
        "ec2:CreateSnapshot",
        "ec2:DescribeSecurityGroups",
    } <= set(follow_on)
    assert "drs:StartRecovery" not in follow_on
    assert all(need.follow_on for need in follow_on_needs())
    orchestration = needs_for("orchestration")
    assert {n.action for n in orchestration if n.follow_on} == set(follow_on)
    assert not any(n.follow_on for kind in ("finder", "poller", "statemachine") for n in needs_for(kind))


def test_resource_hints_fill_in_from_deployment_names() -> None:
    [index] = [n for n in needs_for("finder") if n.action == "dynamodb:Query"]
    names = {
        "partition": "aws",
        "region": "us-east-1",
        "account": "111122223333",
        "history_table": "execution-history",
        "status_index": "StatusIndex",
    }
    assert (
        index.resource_for(names)
        == "arn:aws:dynamodb:us-east-1:111122223333:table/execution-history/index/StatusIndex"
    )
    assert index.resource_for({"partition": "aws"}) is None


def test_unknown_role_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown role kind 'starter'"):
        needs_for("starter")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_has_its_actions(service: str) -> None:
    actions = actions_for_service(service)
    assert len(actions) > 20
    assert all(action.startswith(service + ":") for action in actions)


@pytest.mark.parametrize(
    ("pattern", "inside", "outside"),
    [
        (
            "drs:Describe*",
            {"drs:DescribeJobs", "drs:DescribeJobLogItems", "drs:DescribeSourceServers"},
            {"drs:StartRecovery"},
        ),
        ("drs:*ForDrs", {"drs:CreateRecoveryInstanceForDrs"}, {"drs:DescribeJobs"}),
        ("lambda:Invoke*", {"lambda:InvokeFunction"}, {"lambda:Invoke"}),
        ("iam:Pass*", {"iam:PassRole"}, set()),
        ("DYNAMODB:getitem", {"dynamodb:GetItem"}, {"dynamodb:BatchGetItem"}),
        ("states:StartExecution", {"states:StartExecution"}, set()),
        ("*:DescribeJobs", {"drs:DescribeJobs"}, set()),
        ("s3:GetObject", set(), {"s3:GetObject"}),
    ],
)
def test_expand_action_pattern(pattern: str, inside: set[str], outside: set[str]) -> None:
    expanded = expand_action_pattern(pattern)
    assert inside <= expanded
    assert not outside & expanded


def test_unknown_service_list_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no action list for service 's3'"):
        actions_for_service("s3")


def test_the_read_calls_of_load_role_are_declared_for_drsdoctor_permissions() -> None:
    import drsdoctor.iam
    from drsdoctor.aws.readonly import is_read_operation

    assert {
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    } <= set(drsdoctor.iam.READ_ACTIONS)
    assert all(is_read_operation("iam", action.split(":")[1]) for action in drsdoctor.iam.READ_ACTIONS)


# "Dependent actions" of StartRecovery, Service Authorization Reference for AWS Elastic Disaster Recovery:
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticdisasterrecovery.html
STARTRECOVERY_DEPENDENT_ACTIONS = [
    "drs:CreateRecoveryInstanceForDrs",
    "drs:ListTagsForResource",
    "ec2:AttachVolume",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateLaunchTemplateVersion",
    "ec2:CreateSnapshot",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:DeleteLaunchTemplateVersions",
    "ec2:DeleteSnapshot",
    "ec2:DeleteVolume",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeInstances",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeSubnets",
    "ec2:DescribeVolumes",
    "ec2:DetachVolume",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyLaunchTemplate",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RunInstances",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:TerminateInstances",
    "iam:PassRole",
]


def test_follow_on_set_is_the_documented_dependent_actions_of_start_recovery() -> None:
    assert sorted(follow_on_actions()) == sorted(STARTRECOVERY_DEPENDENT_ACTIONS)
