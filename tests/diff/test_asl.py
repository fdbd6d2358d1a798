"""The ASL module: parsing, the state graph, loops and the state-by-state differ."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drsdoctor.asl import AslError, describe_rule, diff_definitions, parse_definition
from drsdoctor.errors import InputError

POLLING: dict[str, Any] = {
    "Comment": "walk the waves",
    "StartAt": "StartWave",
    "States": {
        "StartWave": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "orchestrator", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
            "Next": "WaitForWave",
        },
        "WaitForWave": {"Type": "Wait", "Seconds": 30, "Next": "CheckWave"},
        "CheckWave": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "orchestrator"},
            "Next": "IsWaveDone",
        },
        "IsWaveDone": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.status", "StringEquals": "COMPLETED", "Next": "Done"},
                {"Variable": "$.status", "StringEquals": "FAILED", "Next": "Failed"},
            ],
            "Default": "WaitForWave",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "WaveFailed"},
    },
}


def edited(edit: Any) -> dict[str, Any]:
    body = copy.deepcopy(POLLING)
    edit(body["States"])
    return body


def test_parse_text_and_mapping_agree() -> None:
    from_text = parse_definition(json.dumps(POLLING))
    from_dict = parse_definition(POLLING)
    assert from_text.states.keys() == from_dict.states.keys()
    assert from_text.start_at == "StartWave"


@pytest.mark.parametrize(
    "text", ["{not json", "[]", '{"States": {}}', '{"StartAt": "A", "States": {"A": {}}}']
)
def test_not_a_definition_is_input_error(text: str) -> None:
    with pytest.raises(InputError):
        parse_definition(text)


def test_transitions_name_next_choice_default_and_catch() -> None:
    edges = {(t.source, t.target, t.kind) for t in parse_definition(POLLING).transitions()}
    assert ("StartWave", "WaitForWave", "next") in edges
    assert ("StartWave", "Failed", "catch") in edges
    assert ("IsWaveDone", "Done", "choice") in edges
    assert ("IsWaveDone", "WaitForWave", "default") in edges


def test_polling_loop_is_found_in_visiting_order() -> None:
    definition = parse_definition(POLLING)
    assert definition.find_cycles() == [["WaitForWave", "CheckWave", "IsWaveDone"]]
    exits = {t.target for t in definition.loop_exits(definition.find_cycles()[0])}
    assert exits == {"Done", "Failed"}


def test_loop_without_exit_has_no_exits() -> None:
    body = edited(
        lambda s: s["IsWaveDone"].update(
            Choices=[{"Variable": "$.s", "StringEquals": "X", "Next": "WaitForWave"}]
        )
    )
    definition = parse_definition(body)
    assert definition.loop_exits(definition.find_cycles()[0]) == []


def test_self_loop_is_a_cycle_and_straight_line_is_not() -> None:
    spin = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}
    line = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}
    assert parse_definition(spin).find_cycles() == [["A"]]
    assert parse_definition(line).find_cycles() == []


def test_long_chain_does_not_overflow() -> None:
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(5000)}
    states["S5000"] = {"Type": "Pass", "Next": "S0"}
    assert len(parse_definition({"StartAt": "S0", "States": states}).find_cycles()[0]) == 5001


def test_unreachable_state_is_not_reachable() -> None:
    body = edited(lambda s: s.update(Orphan={"Type": "Pass", "End": True}))
    assert "Orphan" not in parse_definition(body).reachable()


def test_key_order_and_formatting_are_no_change() -> None:
    reordered = json.loads(json.dumps(POLLING, sort_keys=True, indent=4))
    assert diff_definitions(parse_definition(POLLING), parse_definition(reordered)) == []


CASES = [
    (
        "choice value",
        lambda s: s["IsWaveDone"]["Choices"][0].update(StringEquals="Completed"),
        "States.IsWaveDone.Choices[0]",
        "modified",
        "high",
    ),
    (
        "choice target",
        lambda s: s["IsWaveDone"]["Choices"][1].update(Next="WaitForWave"),
        "States.IsWaveDone.Choices[1]",
        "modified",
        "high",
    ),
    (
        "choice removed",
        lambda s: s["IsWaveDone"]["Choices"].pop(),
        "States.IsWaveDone.Choices[1]",
        "removed",
        "high",
    ),
    (
        "default",
        lambda s: s["IsWaveDone"].update(Default="Failed"),
        "States.IsWaveDone.Default",
        "modified",
        "high",
    ),
    ("next", lambda s: s["StartWave"].update(Next="CheckWave"), "States.StartWave.Next", "modified", "high"),
    (
        "wait",
        lambda s: s["WaitForWave"].update(Seconds=300),
        "States.WaitForWave.Seconds",
        "modified",
        "medium",
    ),
    (
        "retry",
        lambda s: s["StartWave"]["Retry"][0].update(MaxAttempts=0),
        "States.StartWave.Retry[States.TaskFailed]",
        "modified",
        "medium",
    ),
    (
        "catch removed",
        lambda s: s["StartWave"].pop("Catch"),
        "States.StartWave.Catch[States.ALL]",
        "removed",
        "high",
    ),
    (
        "task resource",
        lambda s: s["CheckWave"].update(Resource="arn:aws:lambda:r:1:function:x"),
        "States.CheckWave.Resource",
        "modified",
        "high",
    ),
    (
        "task function",
        lambda s: s["CheckWave"]["Parameters"].update(FunctionName="other"),
        "States.CheckWave.Parameters",
        "modified",
        "high",
    ),
    (
        "task payload",
        lambda s: s["CheckWave"]["Parameters"].update(Payload={"x": 1}),
        "States.CheckWave.Parameters",
        "modified",
        "medium",
    ),
    ("state added", lambda s: s.update(Extra={"Type": "Pass", "End": True}), "States.Extra", "added", "high"),
    ("state removed", lambda s: s.pop("Done"), "States.Done", "removed", "high"),
    ("fail error", lambda s: s["Failed"].update(Error="Other"), "States.Failed.Error", "modified", "medium"),
]


@pytest.mark.parametrize(("name", "edit", "path", "kind", "risk"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_edit_is_one_change(name: str, edit: Any, path: str, kind: str, risk: str) -> None:
    changes = diff_definitions(parse_definition(POLLING), parse_definition(edited(edit)))
    assert [(c.path, c.kind, c.risk) for c in changes] == [(path, kind, risk)]


def test_choice_summary_reads_like_the_rule() -> None:
    body = edited(lambda s: s["IsWaveDone"]["Choices"][0].update(StringEquals="Completed"))
    [change] = diff_definitions(parse_definition(POLLING), parse_definition(body))
    assert "'COMPLETED'" in change.summary and "'Completed'" in change.summary


def test_nested_parallel_branches_are_diffed_inside() -> None:
    def parallel(seconds: int) -> dict[str, Any]:
        branch = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}}}
        return {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [branch], "End": True}}}

    [change] = diff_definitions(parse_definition(parallel(1)), parse_definition(parallel(2)))
    assert change.path == "States.P.Branches[0].States.W.Seconds"


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"Variable": "$.s", "StringEquals": "A", "Next": "N"}, "$.s StringEquals 'A' -> N"),
        (
            {
                "And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.b", "NumericGreaterThan": 2}],
                "Next": "N",
            },
            "($.a IsPresent true and $.b NumericGreaterThan 2) -> N",
        ),
        ({"Not": {"Variable": "$.s", "StringEquals": "A"}, "Next": "N"}, "not $.s StringEquals 'A' -> N"),
        ({"Condition": "{% $states.input.x %}", "Next": "N"}, "{% $states.input.x %} -> N"),
    ],
)
def test_describe_rule(rule: dict[str, Any], text: str) -> None:
    assert describe_rule(rule) == text


def test_asl_error_is_an_input_error() -> None:
    assert issubclass(AslError, InputError)


JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.sampled_from(["A", "B", "Next", "Type", "Choice", "Wait"])
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "StartAt",
                    "States",
                    "Type",
                    "Next",
                    "Choices",
                    "Default",
                    "Catch",
                    "Branches",
                    "ItemProcessor",
                    "End",
                    "A",
                    "B",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_parses_or_is_an_asl_error(body: Any) -> None:
    try:
        definition = parse_definition(body)
    except AslError:
        return
    definition.find_cycles()
    definition.reachable()
    assert diff_definitions(definition, definition) == []


FIELD = st.one_of(
    st.none(),
    st.integers(),
    st.sampled_from(["A", "B"]),
    st.lists(st.sampled_from(["A", 1, None]), max_size=2),
    st.dictionaries(
        st.sampled_from(["Next", "ErrorEquals", "Variable"]),
        st.sampled_from(["A", 1, None, ["x"]]),
        max_size=2,
    ),
)
STATE = st.fixed_dictionaries(
    {"Type": st.sampled_from(["Choice", "Task", "Parallel", "Map", "Pass"])},
    optional={k: FIELD for k in ("Next", "Choices", "Default", "Catch", "Branches", "ItemProcessor", "End")},
)
STATES = st.dictionaries(st.sampled_from(["A", "B"]), STATE, min_size=1)


@settings(max_examples=300, deadline=None)
@given(STATES, STATES)
def test_malformed_states_never_crash_the_graph_or_the_differ(first: Any, second: Any) -> None:
    try:
        a = parse_definition({"StartAt": "A", "States": first})
        b = parse_definition({"StartAt": "A", "States": second})
    except AslError:
        return
    a.find_cycles()
    for change in diff_definitions(a, b):
        assert change.risk in ("high", "medium", "low") and change.summary


def changes_of(edit: Any, base: dict[str, Any] | None = None) -> list[Any]:
    body = copy.deepcopy(base or POLLING)
    edit(body["States"])
    return diff_definitions(parse_definition(base or POLLING), parse_definition(body))


def test_a_choice_rule_inserted_at_the_top_is_one_added_rule() -> None:
    rule = {"Variable": "$.status", "StringEquals": "CANCELLED", "Next": "Failed"}
    [change] = changes_of(lambda s: s["IsWaveDone"]["Choices"].insert(0, rule))
    assert (change.path, change.kind, change.after) == ("States.IsWaveDone.Choices[0]", "added", rule)
    assert "$.status StringEquals 'CANCELLED' -> Failed" in change.summary


def test_the_same_choice_rules_in_another_order_is_one_change() -> None:
    [change] = changes_of(lambda s: s["IsWaveDone"]["Choices"].reverse())
    assert (change.path, change.kind, change.risk) == ("States.IsWaveDone.Choices", "modified", "high")


def test_a_retry_entry_added_before_another_is_matched_by_its_errors() -> None:
    retry = {"ErrorEquals": ["Drs.ThrottlingException"], "MaxAttempts": 6, "BackoffRate": 2}
    [change] = changes_of(lambda s: s["StartWave"]["Retry"].insert(0, retry))
    assert (change.path, change.kind) == ("States.StartWave.Retry[Drs.ThrottlingException]", "added")
    assert "now retries Drs.ThrottlingException" in change.summary


JSONATA: dict[str, Any] = {
    "QueryLanguage": "JSONata",
    "StartAt": "StartWave",
    "States": {
        "StartWave": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "orchestrator", "Payload": "{% $states.input %}"},
            "Assign": {"waveId": "{% $states.result.Payload.waveId %}"},
            "Output": "{% $states.result.Payload %}",
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "Output": "{% $states.errorOutput %}", "Next": "Failed"}
            ],
            "Next": "IsWaveDone",
        },
        "IsWaveDone": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.status = 'COMPLETED' %}", "Next": "Done"},
                {"Condition": "{% $states.input.status = 'FAILED' %}", "Next": "Failed"},
            ],
            "Default": "StartWave",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    },
}


@pytest.mark.parametrize(
    ("edit", "path", "risk", "phrase"),
    [
        (lambda s: s["IsWaveDone"]["Choices"][0].update(Condition="{% $states.input.status = 'Completed' %}"),
         "States.IsWaveDone.Choices[0]", "high", "'Completed'"),
        (lambda s: s["StartWave"]["Arguments"].update(FunctionName="other"),
         "States.StartWave.Arguments", "high", "\"FunctionName\": \"other\""),
        (lambda s: s["StartWave"]["Assign"].update(planId="{% $states.input.planId %}"),
         "States.StartWave.Assign", "medium", "planId added"),
        (lambda s: s["StartWave"].update(Output="{% $states.result %}"),
         "States.StartWave.Output", "medium", "$states.result"),
        (lambda s: s["StartWave"]["Catch"][0].update(Output="{% $states.input %}"),
         "States.StartWave.Catch[States.ALL]", "high", "still to Failed"),
    ],
    ids=["condition", "arguments", "assign", "output", "catch-output"],
)
def test_jsonata_fields_are_compared_like_jsonpath_ones(edit: Any, path: str, risk: str, phrase: str) -> None:
    [change] = changes_of(edit, JSONATA)
    assert (change.path, change.risk) == (path, risk)
    assert phrase in change.summary


def test_a_key_added_inside_a_long_payload_is_what_the_summary_shows() -> None:
    payload = {f"field{n}": f"$.wave.details.field{n}" for n in range(12)}
    base = copy.deepcopy(POLLING)
    base["States"]["CheckWave"]["Parameters"] = {"FunctionName": "orchestrator", "Payload": payload}
    [change] = changes_of(lambda s: s["CheckWave"]["Parameters"]["Payload"].update(waveId="$.wave.id"), base)
    assert "Payload.waveId added: $.wave.id" in change.summary
