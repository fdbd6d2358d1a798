"""A role read from IAM (moto, real boto3 client), from a template, and as policy files decides alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from drsdoctor.errors import AwsCallError, InputError
from drsdoctor.iam.evaluate import PolicySet, evaluate_all
from drsdoctor.iam.policy import load_policy_file
from drsdoctor.iam.principal import Principal, load_role, load_role_from_template
from drsdoctor.iam.simulator import simulate

TEMPLATE = Path(__file__).parent / "fixtures" / "orchestrator-role.yaml"
ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE_NAME = "prod-drs-orchestration"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"

# the template's documents with its intrinsics resolved by hand
START_WAVES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Drs",
            "Effect": "Allow",
            "Resource": "*",
            "Action": ["drs:StartRecovery", "drs:DescribeSourceServers", "drs:CreateRecoveryInstanceForDrs"],
        },
        {
            "Sid": "History",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": [f"{TABLE}/prod-execution-history", f"{TABLE}/prod-plans"],
        },
        {
            "Sid": "Home",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::prod-runbooks/${aws:username}/*",
        },
        {
            "Sid": "TeamOnly",
            "Effect": "Deny",
            "Action": "drs:StartRecovery",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "dr"}},
        },
    ],
}
LAUNCH = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ec2:RunInstances", "ec2:Describe*", "ec2:CreateTags"],
            "Resource": "*",
        }
    ],
}
PASS_ROLE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:aws:iam::{ACCOUNT}:role/drs-*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        }
    ],
}
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "drs:*",
                "dynamodb:*",
                "s3:GetObject",
                "iam:PassRole",
                "ec2:RunInstances",
                "ec2:Describe*",
            ],
        }
    ],
}

# (action, resource, context): allowed, denied by the boundary, by a condition, by a variable, by a resource
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("drs:StartRecovery", "*", {}),
    ("drs:StartRecovery", "*", {"aws:PrincipalTag/team": "web"}),
    ("drs:CreateRecoveryInstanceForDrs", "*", {}),
    ("drs:DeleteJob", "*", {}),
    ("dynamodb:PutItem", f"{TABLE}/prod-execution-history", {}),
    ("dynamodb:GetItem", f"{TABLE}/prod-plans", {}),
    ("dynamodb:GetItem", f"{TABLE}/staging-plans", {}),
    ("s3:GetObject", "arn:aws:s3:::prod-runbooks/alice/wave1.md", {"aws:username": "alice"}),
    ("s3:GetObject", "arn:aws:s3:::prod-runbooks/alice/wave1.md", {"aws:username": "bob"}),
    ("ec2:RunInstances", "*", {}),
    ("ec2:DescribeLaunchTemplateVersions", "*", {}),
    ("ec2:CreateTags", "*", {}),
    (
        "iam:PassRole",
        f"arn:aws:iam::{ACCOUNT}:role/drs-recovery-instance",
        {"iam:PassedToService": "ec2.amazonaws.com"},
    ),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/drs-recovery-instance", {}),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {"iam:PassedToService": "ec2.amazonaws.com"}),
]
EXPECTED = [
    "allowed",
    "explicitDeny",
    "allowed",
    "implicitDeny",
    "allowed",
    "allowed",
    "implicitDeny",
    "allowed",
    "implicitDeny",
    "allowed",
    "allowed",
    "implicitDeny",
    "allowed",
    "implicitDeny",
    "implicitDeny",
]


def _decisions(principal: Principal) -> list[tuple[str, str | None]]:
    results = []
    for action, resource, context in REQUESTS:
        [decision] = simulate(principal, [action], resource, context)
        results.append((decision.decision, decision.boundary_decision))
    return results


def _from_files(tmp_path: Path) -> list[tuple[str, str | None]]:
    paths = {}
    for name, document in {
        "start": START_WAVES,
        "launch": LAUNCH,
        "pass": PASS_ROLE,
        "boundary": BOUNDARY,
    }.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(document, indent=2))
    policies = PolicySet(
        identity=[load_policy_file(paths[n]) for n in ("start", "launch", "pass")],
        boundary=load_policy_file(paths["boundary"], "boundary"),
    )
    results = []
    for action, resource, context in REQUESTS:
        # the role's own tag is what a file cannot carry: give it as context, as an operator would
        [decision] = evaluate_all(policies, [action], resource, {"aws:PrincipalTag/team": "dr", **context})
        results.append((decision.decision, decision.boundary_decision))
    return results


def _moto_role(iam: Any) -> None:
    iam.create_role(
        RoleName=ROLE_NAME,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
        Tags=[{"Key": "team", "Value": "dr"}],
    )
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="StartWaves", PolicyDocument=json.dumps(START_WAVES))
    iam.put_role_policy(
        RoleName=ROLE_NAME, PolicyName="PassRecoveryRole", PolicyDocument=json.dumps(PASS_ROLE)
    )
    launch = iam.create_policy(PolicyName="LaunchPolicy", PolicyDocument=json.dumps(LAUNCH))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=launch)
    boundary = iam.create_policy(PolicyName="Boundary", PolicyDocument=json.dumps(BOUNDARY))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName=ROLE_NAME, PermissionsBoundary=boundary)


def test_files_decide_as_documented(tmp_path: Path) -> None:
    assert [decision for decision, _ in _from_files(tmp_path)] == EXPECTED


def test_template_role_decides_like_the_files(tmp_path: Path) -> None:
    principal = load_role_from_template(
        TEMPLATE, "OrchestrationRole", {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION}
    )
    assert principal.arn == f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
    assert principal.context["aws:PrincipalTag/team"] == "dr"
    assert sorted(p.name for p in principal.policies.identity) == [
        "LaunchPolicy",
        "PassRecoveryRole",
        "StartWaves",
    ]
    assert principal.unresolved == []
    assert _decisions(principal) == _from_files(tmp_path)


def test_moto_role_decides_like_the_files(tmp_path: Path) -> None:
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        _moto_role(iam)
        principal = load_role(iam, f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}")
        # moto has no SimulatePrincipalPolicy: the front falls back to the local engine and says so
        decisions = simulate(principal, ["drs:StartRecovery"], iam_client=iam)
    assert principal.source == "aws"
    assert principal.policies.boundary is not None
    assert decisions[0].engine == "local"
    assert _decisions(principal) == _from_files(tmp_path)


def test_missing_role_is_an_aws_call_error_naming_the_call_and_no_permission() -> None:
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        with pytest.raises(AwsCallError) as raised:
            load_role(iam, "no-such-role")
    assert raised.value.code == "NoSuchEntity" and "iam:GetRole on no-such-role" in str(raised.value)
    assert raised.value.permission is None  # no grant brings a role back: only a denial names one


def test_template_without_account_leaves_the_arn_symbolic() -> None:
    principal = load_role_from_template(TEMPLATE, "OrchestrationRole")
    assert principal.arn == "arn:aws:iam::{{AWS::AccountId}}:role/prod-drs-orchestration"
    assert "aws:PrincipalArn" not in principal.context
    history = principal.policies.identity[0].statements[1].resources
    assert history == (
        "arn:aws:dynamodb:{{AWS::Region}}:{{AWS::AccountId}}:table/prod-execution-history",
        "arn:aws:dynamodb:{{AWS::Region}}:{{AWS::AccountId}}:table/prod-plans",
    )


def test_template_parameters_override_defaults() -> None:
    principal = load_role_from_template(TEMPLATE, "OrchestrationRole", {"Env": "staging"})
    assert principal.name == "staging-drs-orchestration"


def test_aws_managed_policies_are_named_as_unresolved() -> None:
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {},
                    "ManagedPolicyArns": [
                        {
                            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                            "AWSLambdaBasicExecutionRole"
                        }
                    ],
                },
            }
        }
    }
    principal = load_role_from_template(template, "Role")
    assert principal.unresolved == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    assert principal.policies.identity == []


def test_unknown_logical_id_lists_the_roles() -> None:
    with pytest.raises(
        InputError, match=r"no AWS::IAM::Role 'Nope' in the template \(roles: OrchestrationRole\)"
    ):
        load_role_from_template(TEMPLATE, "Nope")


def test_a_bad_template_file_is_an_input_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    with pytest.raises(InputError):
        load_role_from_template(broken, "Role")
