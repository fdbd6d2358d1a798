"""Intrinsic functions resolved where a template allows, symbolic where it cannot know."""

from __future__ import annotations

from typing import Any

import pytest

from drsdoctor.iam.intrinsics import Resolver

TEMPLATE: dict[str, Any] = {
    "Parameters": {"Env": {"Type": "String", "Default": "prod"}, "Tier": {"Type": "String"}},
    "Mappings": {"Regions": {"us-east-1": {"Dr": "us-west-2"}}},
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Unknowable": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, "1"]},
    },
    "Resources": {
        "Poller": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"FunctionName": {"Fn::Sub": "${Env}-poller"}},
        },
        "Finder": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Plans": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "plans"}},
    },
}

CASES = [
    ("Ref to a parameter default", {"Ref": "Env"}, "prod"),
    ("Ref to a parameter without default stays symbolic", {"Ref": "Tier"}, "{{Tier}}"),
    ("AWS::Partition defaults to aws", {"Ref": "AWS::Partition"}, "aws"),
    ("AWS::AccountId stays symbolic", {"Ref": "AWS::AccountId"}, "{{AWS::AccountId}}"),
    ("Ref to a named function is its name", {"Ref": "Poller"}, "prod-poller"),
    ("Ref to an unnamed function stays symbolic", {"Ref": "Finder"}, "{{Finder}}"),
    (
        "GetAtt Arn of a named function",
        {"Fn::GetAtt": ["Poller", "Arn"]},
        "arn:aws:lambda:{{AWS::Region}}:{{AWS::AccountId}}:function:prod-poller",
    ),
    (
        "GetAtt in dotted form",
        {"Fn::GetAtt": "Plans.Arn"},
        "arn:aws:dynamodb:{{AWS::Region}}:{{AWS::AccountId}}:table/plans",
    ),
    ("GetAtt of an unnamed resource stays symbolic", {"Fn::GetAtt": ["Finder", "Arn"]}, "{{Finder.Arn}}"),
    (
        "Sub with a resource attribute",
        {"Fn::Sub": "${Plans.Arn}/index/StatusIndex"},
        "arn:aws:dynamodb:{{AWS::Region}}:{{AWS::AccountId}}:table/plans/index/StatusIndex",
    ),
    ("Sub keeps ${!x} as an IAM variable", {"Fn::Sub": "home/${!aws:username}/*"}, "home/${aws:username}/*"),
    ("Sub with its own variables", {"Fn::Sub": ["${A}-${Env}", {"A": "x"}]}, "x-prod"),
    ("Join", {"Fn::Join": [":", ["a", {"Ref": "Env"}, "c"]]}, "a:prod:c"),
    ("Select and Split", {"Fn::Select": [1, {"Fn::Split": ["-", "a-b-c"]}]}, "b"),
    ("If on a decidable condition", {"Fn::If": ["NotProd", "dev", "live"]}, "live"),
    ("If on an undecidable condition takes the true branch", {"Fn::If": ["Unknowable", "yes", "no"]}, "yes"),
    ("FindInMap", {"Fn::FindInMap": ["Regions", "us-east-1", "Dr"]}, "us-west-2"),
    ("ImportValue stays symbolic", {"Fn::ImportValue": "shared-table"}, "{{ImportValue:shared-table}}"),
    ("NoValue disappears from a list", ["a", {"Ref": "AWS::NoValue"}], ["a"]),
]


@pytest.mark.parametrize(("name", "node", "expected"), CASES, ids=[c[0] for c in CASES])
def test_intrinsic(name: str, node: Any, expected: Any) -> None:
    assert Resolver(TEMPLATE).resolve(node) == expected


def test_given_pseudo_parameters_resolve() -> None:
    resolver = Resolver(TEMPLATE, {"AWS::AccountId": "111122223333", "AWS::Region": "eu-west-1"})
    assert (
        resolver.resolve({"Fn::GetAtt": ["Poller", "Arn"]})
        == "arn:aws:lambda:eu-west-1:111122223333:function:prod-poller"
    )
