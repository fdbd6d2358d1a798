"""The simulator front: AWS's answer when SimulatePrincipalPolicy answers, the local one otherwise."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from drsdoctor.iam.evaluate import PolicySet
from drsdoctor.iam.policy import parse_policy
from drsdoctor.iam.principal import Principal
from drsdoctor.iam.simulator import simulate

ROLE = "arn:aws:iam::111122223333:role/drs-orchestration"


def _principal(arn: str = ROLE) -> Principal:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "drs:StartRecovery", "Resource": "*"}],
        },
        "starter",
    )
    return Principal(arn=arn, name="drs-orchestration", policies=PolicySet(identity=[policy]), source="aws")


def _client() -> tuple[object, Stubber]:
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def test_aws_answer_is_used_when_simulate_principal_policy_answers() -> None:
    client, stubber = _client()
    stubber.add_response(
        "simulate_principal_policy",
        {
            "IsTruncated": False,
            "EvaluationResults": [
                {
                    "EvalActionName": "drs:StartRecovery",
                    "EvalResourceName": "*",
                    "EvalDecision": "explicitDeny",
                    "MatchedStatements": [{"SourcePolicyId": "scp-guard", "SourcePolicyType": "none"}],
                    "MissingContextValues": [],
                    "OrganizationsDecisionDetail": {"AllowedByOrganizations": False},
                }
            ],
        },
        {
            "PolicySourceArn": ROLE,
            "ActionNames": ["drs:StartRecovery"],
            "ResourceArns": ["*"],
            "ContextEntries": [
                {
                    "ContextKeyName": "aws:RequestedRegion",
                    "ContextKeyValues": ["eu-west-1"],
                    "ContextKeyType": "string",
                }
            ],
        },
    )
    with stubber:
        [decision] = simulate(
            _principal(),
            ["drs:StartRecovery"],
            context={"aws:RequestedRegion": "eu-west-1"},
            iam_client=client,
        )
    assert decision.engine == "aws"
    assert decision.decision == "explicitDeny"  # AWS knows the SCP we were not given; its answer wins
    assert decision.organizations_decision == "implicitDeny"
    assert decision.to_aws_json()["MatchedStatements"][0]["SourcePolicyId"] == "scp-guard"


@pytest.mark.parametrize(
    ("code", "status"), [("AccessDenied", 403), ("NotImplemented", 501), ("Throttling", 400)]
)
def test_local_engine_answers_when_aws_cannot(code: str, status: int) -> None:
    client, stubber = _client()
    stubber.add_client_error("simulate_principal_policy", service_error_code=code, http_status_code=status)
    with stubber:
        [decision] = simulate(_principal(), ["drs:StartRecovery"], iam_client=client)
    assert decision.engine == "local"
    assert decision.decision == "allowed"


def test_a_symbolic_principal_is_never_sent_to_aws() -> None:
    client, stubber = _client()
    with stubber:  # no response queued: any call would fail the test
        [decision] = simulate(
            _principal("arn:aws:iam::{{AWS::AccountId}}:role/x"), ["drs:StartRecovery"], iam_client=client
        )
    assert decision.engine == "local"


def test_caller_context_wins_over_the_principal_context() -> None:
    principal = _principal()
    principal.policies.identity.append(
        parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Action": "drs:*",
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "dr"}},
                    }
                ],
            },
            "team-guard",
        )
    )
    principal.context["aws:PrincipalTag/team"] = "dr"
    assert simulate(principal, ["drs:StartRecovery"])[0].decision == "allowed"
    assert (
        simulate(principal, ["drs:StartRecovery"], context={"aws:PrincipalTag/team": "web"})[0].decision
        == "explicitDeny"
    )
