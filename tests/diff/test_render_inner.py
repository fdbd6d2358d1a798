"""A change inside a long value is shown as its smallest inner difference; --long still shows everything."""

from __future__ import annotations

import json
from typing import Any

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.model import DiffResult
from drsdoctor.diff.render import render_text
from drsdoctor.diff.sides import source_from_template

PLAN = {f"wave{n}": {"servers": [f"s-{n}a", f"s-{n}b"], "launch": "parallel"} for n in range(8)}
BANNER = ("Recovery waves are started one after the other; each wave waits for every server of the "
          "previous wave to reach LAUNCHED before it starts, and a FAILED server stops the plan.")


def rule_template(plan: dict[str, Any], banner: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Schedule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 minute)",
                    "Targets": [{"Id": "finder", "Arn": "arn:aws:lambda:us-east-1:1:function:f",
                                 "Input": json.dumps(plan)}],
                },
            },
            "Finder": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Handler": "f.handler", "Runtime": "python3.12",
                               "Environment": {"Variables": {"BANNER": banner}}},
            },
        }
    }


def diff(a: dict[str, Any], b: dict[str, Any]) -> DiffResult:
    return diff_sources(
        source_from_template(a, "a.json", "file", {}), source_from_template(b, "b.json", "file", {})
    )


def test_a_key_added_deep_inside_a_long_input_is_shown() -> None:
    plan = json.loads(json.dumps(PLAN))
    plan["wave7"]["servers"].append("s-7c")
    plan["wave2"]["launch"] = "serial"
    result = diff(rule_template(PLAN, BANNER), rule_template(plan, BANNER))
    [change] = result.changes
    assert "wave2.launch: parallel -> serial; wave7.servers[2] added: s-7c" in change.summary
    text = render_text(result)
    assert "~ wave2.launch: parallel -> serial" in text and "+ wave7.servers[2]: s-7c" in text
    whole = render_text(result, long=True)
    assert json.dumps(plan) in whole.replace("\n", "")  # --long: both values whole


def test_words_changed_inside_a_long_string_are_shown() -> None:
    banner = BANNER.replace("stops the plan", "is retried once")
    [change] = diff(rule_template(PLAN, BANNER), rule_template(PLAN, banner)).changes
    assert "server [-stops the plan.-]{+is retried once.+}" in change.summary
