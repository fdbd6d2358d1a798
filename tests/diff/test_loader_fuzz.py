"""Fuzzing the template loader and the resolver: whatever the input, only our own error types come out."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.loader import load_template_text
from drsdoctor.diff.sides import source_from_template
from drsdoctor.errors import DrsdoctorError

TAGS = [
    "!Ref",
    "!GetAtt",
    "!Sub",
    "!If",
    "!Join",
    "!Select",
    "!Split",
    "!FindInMap",
    "!Equals",
    "!Not",
    "!Frob",
    "!Base64",
    "!GetAZs",
    "!ImportValue",
    "!Condition",
]
WORDS = st.sampled_from(
    [
        "A",
        "B",
        "Env",
        "AWS::Region",
        "AWS::NoValue",
        "A.Arn",
        "${A}",
        "${Env}",
        "${!x}",
        "x",
        "Resources",
        "Type",
        "Properties",
        "Parameters",
        "Conditions",
        "Default",
        "-",
        ":",
        "[",
        "{",
        "}",
        "]",
        "'",
        '"',
        "Fn::Sub",
        "Ref",
        "Cond",
        "AWS::SNS::Topic",
        "0",
        "1",
        "\n",
        "  ",
    ]
)


def check(text: str) -> None:
    try:
        template = load_template_text(text, "fuzz.yaml")
        source = source_from_template(template, "fuzz.yaml", "file", {})
        diff_sources(source, source)
    except DrsdoctorError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    check(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(WORDS, st.sampled_from(TAGS)), max_size=40).map(" ".join))
def test_template_looking_words(text: str) -> None:
    check("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: " + text)


VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), WORDS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(
                WORDS,
                st.sampled_from(
                    [
                        "Ref",
                        "Fn::GetAtt",
                        "Fn::Sub",
                        "Fn::If",
                        "Fn::Join",
                        "Fn::Select",
                        "Fn::Split",
                        "Fn::FindInMap",
                        "Fn::Equals",
                        "Condition",
                        "Fn::ToJsonString",
                    ]
                ),
            ),
            inner,
            max_size=2,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES, VALUES, VALUES)
def test_structured_templates(properties: Any, conditions: Any, parameters: Any) -> None:
    template = {
        "Parameters": parameters,
        "Conditions": conditions,
        "Resources": {
            "A": {"Type": "AWS::SNS::Topic", "Properties": properties},
            "B": {
                "Type": "AWS::Lambda::Function",
                "Condition": "Cond",
                "Properties": {"Environment": {"Variables": properties}},
            },
        },
    }
    check(json.dumps(template))
    check(yaml.safe_dump(template))
