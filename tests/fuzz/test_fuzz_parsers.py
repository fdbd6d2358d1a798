"""Fuzzing the parsers of what operators hand drsdoctor: state machine definitions, templates and policies.
Random text, hostile nesting, and near-valid mutations of the real inputs (the reference template and its
definition, the example templates and policies): only the project's own errors come out, and what parses
can be used (graphed, diffed, evaluated) without a crash."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drsdoctor.asl import diff_definitions, parse_definition
from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.loader import load_template_file, load_template_text
from drsdoctor.diff.sides import source_from_template
from drsdoctor.errors import DrsdoctorError
from drsdoctor.iam.evaluate import PolicySet, Request, evaluate
from drsdoctor.iam.policy import load_policy_file, parse_policy
from drsdoctor.reference import template, template_text

from .mutations import DEEP, mutated, mutated_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_TEMPLATES = sorted((ROOT / "examples" / "templates").glob("*.yaml"))
EXAMPLE_POLICIES = sorted((ROOT / "examples" / "policies").glob("*.json"))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference_definition() -> str:
    machine = next(body for body in template()["Resources"].values()
                   if body["Type"] == "AWS::StepFunctions::StateMachine")
    definition = machine["Properties"]["DefinitionString"]
    return str(definition["Fn::Sub"] if isinstance(definition, dict) else definition)


DEFINITION = _reference_definition()
PARSED_DEFINITION = parse_definition(DEFINITION)
TEMPLATES = [template_text()] + [path.read_text() for path in EXAMPLE_TEMPLATES]
POLICIES = [path.read_text() for path in EXAMPLE_POLICIES]
REQUEST = Request(action="drs:StartRecovery",
                  resource="arn:aws:drs:us-east-1:123456789012:source-server/s-1234567890abcdef0")


# ---- state machine definitions -------------------------------------------------------------------

def definition_or_own_error(source: str | bytes) -> None:
    try:
        definition = parse_definition(source)
    except DrsdoctorError:
        return
    definition.find_cycles()
    definition.reachable()
    for change in diff_definitions(PARSED_DEFINITION, definition):
        assert change.risk in ("high", "medium", "low") and change.summary


def test_the_reference_definition_parses_with_its_polling_loop() -> None:
    assert PARSED_DEFINITION.find_cycles(), "the reference waits and polls: its graph has a loop"


@FAST
@given(st.text(max_size=300) | DEEP)
def test_any_text_is_a_definition_or_an_asl_error(text: str) -> None:
    definition_or_own_error(text)
    definition_or_own_error(text.encode("utf-8", "surrogatepass"))


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_are_a_definition_or_an_asl_error(data: bytes) -> None:
    definition_or_own_error(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(DEFINITION, max_edits=3))
def test_a_damaged_reference_definition_parses_or_is_an_asl_error(text: str) -> None:
    definition_or_own_error(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_json(json.loads(DEFINITION)))
def test_a_reference_definition_with_wrong_values_parses_or_is_an_asl_error(body: Any) -> None:
    try:
        definition = parse_definition(body)
    except DrsdoctorError:
        return
    definition.find_cycles()
    definition.reachable()
    diff_definitions(PARSED_DEFINITION, definition)


# ---- templates -----------------------------------------------------------------------------------

def template_or_own_error(text: str) -> None:
    try:
        loaded = load_template_text(text, "fuzz.yaml")
        source = source_from_template(loaded, "fuzz.yaml", "file", {})
        diff_sources(source, source)
    except DrsdoctorError:
        return


@FAST
@given(st.sampled_from(TEMPLATES).flatmap(lambda text: mutated(text, max_edits=3)))
def test_a_damaged_real_template_loads_or_is_a_template_error(text: str) -> None:
    template_or_own_error(text)


@FAST
@given(mutated_json(template()))
def test_a_reference_template_with_wrong_values_loads_or_is_a_template_error(body: Any) -> None:
    try:
        loaded = load_template_text(body, "fuzz.json")
        source = source_from_template(loaded, "fuzz.json", "file", {})
        diff_sources(source_from_template(template(), "reference", "file", {}), source)
    except DrsdoctorError:
        return


@FAST
@given(DEEP)
def test_hostile_nesting_is_a_template_error(text: str) -> None:
    template_or_own_error(text)
    template_or_own_error("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: " + text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.sampled_from(TEMPLATES).map(lambda text: text.encode("utf-16")))
def test_a_template_file_of_any_bytes_loads_or_is_a_template_error(tmp_path_factory: Any,
                                                                   data: bytes) -> None:
    path = tmp_path_factory.mktemp("templates") / "template.yaml"
    path.write_bytes(data)
    with contextlib.suppress(DrsdoctorError):
        load_template_file(path)


# ---- policies ------------------------------------------------------------------------------------

def policy_or_own_error(document: Any) -> None:
    for kind in ("identity", "resource", "boundary", "scp"):
        try:
            policy = parse_policy(document, "fuzz.json", kind)
        except DrsdoctorError:
            continue
        sets = {"identity": PolicySet(identity=[policy]), "resource": PolicySet(resource=[policy]),
                "boundary": PolicySet(identity=[policy], boundary=policy),
                "scp": PolicySet(identity=[policy], scps=[policy])}
        assert evaluate(sets[kind], REQUEST).decision in ("allowed", "explicitDeny", "implicitDeny")


@FAST
@given(st.text(max_size=300) | DEEP)
def test_any_text_is_a_policy_or_a_policy_error(text: str) -> None:
    policy_or_own_error(text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(POLICIES).flatmap(lambda text: mutated(text, max_edits=3)))
def test_a_damaged_example_policy_parses_or_is_a_policy_error(text: str) -> None:
    policy_or_own_error(text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([json.loads(text) for text in POLICIES]).flatmap(mutated_json))
def test_an_example_policy_with_wrong_values_parses_or_is_a_policy_error(document: Any) -> None:
    policy_or_own_error(document)


@pytest.mark.parametrize("statement", ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
                                       "1" + "0" * 5000])
def test_a_policy_past_json_limits_is_one_line_of_policy_error(tmp_path: Path, statement: str) -> None:
    """Found by the fuzzing above: json's RecursionError and its 4300-digit ValueError escaped."""
    path = tmp_path / "hostile.json"
    path.write_text('{"Version": "2012-10-17", "Statement": ' + statement + "}")
    with pytest.raises(DrsdoctorError) as raised:
        load_policy_file(path)
    assert "not valid JSON" in str(raised.value) and "\n" not in str(raised.value)
    document: Any = "*"
    for _ in range(5000):
        document = [document]
    policy_or_own_error({"Version": "2012-10-17", "Statement": document})


def _broken(logical_id: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    broken = json.loads(json.dumps(template()))
    node = broken["Resources"][logical_id]["Properties"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return broken


@pytest.mark.parametrize(("logical_id", "path", "value"), [
    ("ExecutionPollerFunction", ("Environment",), 1),
    ("ExecutionPollerFunction", ("Environment", "Variables"), ["EXECUTION_TABLE"]),
    ("ExecutionFinderSchedule", ("Targets",), 7),
    ("ExecutionHistoryTable", ("GlobalSecondaryIndexes",), True),
    ("StateMachineRole", ("ManagedPolicyArns",), 5),
])
def test_a_property_of_the_wrong_shape_is_still_compared_not_a_crash(logical_id: str, path: tuple[str, ...],
                                                                     value: Any) -> None:
    """Found by the fuzzing above: diff-stacks crashed on `Environment: 1` (CloudFormation would refuse it;
    an operator comparing a hand-edited template still gets the change named)."""
    reference = source_from_template(template(), "reference", "file", {})
    broken = source_from_template(load_template_text(_broken(logical_id, path, value), "broken.json"),
                                  "broken.json", "file", {})
    changes = diff_sources(reference, broken).changes
    assert any(c.resource == logical_id and c.path.startswith(path[0]) for c in changes), changes
