"""Properties the evaluator must keep on any input, checked on random policies and requests."""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from drsdoctor.iam.evaluate import PolicySet, Request, evaluate
from drsdoctor.iam.matching import action_match, glob_match
from drsdoctor.iam.policy import PolicyError, parse_policy

ACTIONS = ["drs:StartRecovery", "drs:DescribeJobs", "ec2:RunInstances", "iam:PassRole", "dynamodb:GetItem"]
ACTION_PATTERNS = [*ACTIONS, "drs:*", "*", "ec2:Run*", "DRS:describe?obs", "dynamodb:Get*"]
RESOURCES = [
    "*",
    "arn:aws:dynamodb:us-east-1:111122223333:table/plans",
    "arn:aws:dynamodb:us-east-1:111122223333:table/history",
]
RESOURCE_PATTERNS = [*RESOURCES, "arn:aws:dynamodb:*:*:table/*", "arn:aws:dynamodb:us-east-1:*:table/p?ans"]
CONDITIONS = [
    {},
    {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "dr"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["dr-*"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"Null": {"aws:PrincipalTag/team": "false"}},
]
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "aws:RequestedRegion": st.sampled_from(["us-east-1", "eu-west-1"]),
        "aws:PrincipalTag/team": st.sampled_from(["dr", "web"]),
        "aws:MultiFactorAuthPresent": st.sampled_from(["true", "false"]),
        "aws:TagKeys": st.lists(st.sampled_from(["dr-wave", "owner"]), max_size=2),
        "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
    },
)


@st.composite
def statements(draw: Any, effect: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    statement["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3)
    )
    statement["NotResource" if draw(st.integers(0, 4)) == 0 else "Resource"] = draw(
        st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)
    )
    condition = draw(st.sampled_from(CONDITIONS))
    if condition:
        statement["Condition"] = condition
    return statement


def _policy(statement_list: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statement_list}


requests = st.builds(Request, st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), CONTEXTS)


def _decide(identity: list[list[dict[str, Any]]], request: Request) -> str:
    policies = PolicySet(identity=[parse_policy(_policy(s), f"p{i}") for i, s in enumerate(identity) if s])
    return evaluate(policies, request).decision


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(statements(), max_size=4), min_size=1, max_size=3), statements("Deny"), requests)
def test_adding_a_deny_never_allows_what_was_not_allowed(identity: Any, extra: Any, request: Request) -> None:
    before = _decide(identity, request)
    after = _decide([*identity[:-1], [*identity[-1], extra]], request)
    if after == "allowed":
        assert before == "allowed"
    if before == "explicitDeny":
        assert after == "explicitDeny"


@settings(max_examples=60, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=6), st.data(), requests)
def test_removing_an_allow_never_allows_what_was_not_allowed(
    policy: Any, data: Any, request: Request
) -> None:
    allows = [i for i, s in enumerate(policy) if s["Effect"] == "Allow"]
    before = _decide([policy], request)
    if allows:
        drop = data.draw(st.sampled_from(allows))
        after = _decide([policy[:drop] + policy[drop + 1 :]], request)
        if after == "allowed":
            assert before == "allowed"


# IAM wildcards are only * and ?; brackets are literal to IAM but special to fnmatch, so keep them out
ALPHABET = st.sampled_from([*list("abAB:/-*?."), "x"])
VALUES = st.text(st.sampled_from(list("abAB:/-.x*?")), max_size=12)


def _reference(pattern: str, value: str, ignore_case: bool = False) -> bool:
    flags = re.IGNORECASE if ignore_case else 0
    return re.match(fnmatch.translate(pattern), value, flags | re.DOTALL) is not None


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=10), VALUES)
def test_wildcards_agree_with_a_reference_glob(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == _reference(pattern, value)
    assert action_match(pattern, value) == _reference(pattern, value, ignore_case=True)


POLICY_WORDS = st.sampled_from(
    [
        "Version",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
        "Sid",
        "Allow",
        "Deny",
        "StringEquals",
        "ForAllValues:StringLike",
        "IpAddress",
        "NumericLessThan",
        "DateGreaterThan",
        "Null",
        "AWS",
        "2012-10-17",
        "drs:*",
        "*",
        "aws:SourceIp",
    ]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | POLICY_WORDS
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(POLICY_WORDS | st.text(max_size=4) | st.integers(0, 3), inner, max_size=4)
    ),
    max_leaves=12,
)
# near-policies: the right shape with random parts, so the parser's inner checks are reached too
NEAR_POLICIES = st.fixed_dictionaries(
    {
        "Version": st.sampled_from(["2012-10-17", "2008-10-17", "2020"]),
        "Statement": st.lists(st.dictionaries(POLICY_WORDS, JSON | POLICY_WORDS, max_size=6), max_size=3),
    }
)


@settings(max_examples=120, deadline=None)
@given(JSON | NEAR_POLICIES, st.sampled_from(["identity", "resource", "boundary", "scp"]), requests)
def test_parser_raises_only_policy_errors_and_parsed_policies_evaluate(
    document: Any, kind: str, request: Request
) -> None:
    for given_as in (json.dumps(document), document):
        try:
            policy = parse_policy(given_as, "random.json", kind)
        except PolicyError:
            continue
        sets = {
            "identity": PolicySet(identity=[policy]),
            "resource": PolicySet(resource=[policy]),
            "boundary": PolicySet(boundary=policy),
            "scp": PolicySet(scps=[policy]),
        }
        assert evaluate(sets[kind], request).decision in ("allowed", "explicitDeny", "implicitDeny")
