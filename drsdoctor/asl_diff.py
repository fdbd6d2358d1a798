"""The semantic diff of two state machine definitions, state by state (see drsdoctor.asl)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from drsdoctor.asl import AslChange, Definition, State, _transitions_of, as_list

# field of a state -> risk of a change to it; transitions and Choice rules are handled apart
_FIELD_RISK = {
    "Type": "high",
    "Resource": "high",
    "Retry": "medium",
    "Catch": "high",
    "Seconds": "medium",
    "SecondsPath": "medium",
    "Timestamp": "medium",
    "TimestampPath": "medium",
    "TimeoutSeconds": "medium",
    "HeartbeatSeconds": "medium",
    "Parameters": "medium",
    "Arguments": "medium",
    "ResultPath": "medium",
    "InputPath": "medium",
    "OutputPath": "medium",
    "ResultSelector": "medium",
    "Comment": "low",
    "Error": "medium",
    "Cause": "medium",
    "MaxConcurrency": "medium",
    "ItemsPath": "medium",
}
_HANDLED = {"Next", "End", "Default", "Choices", "Catch", "Branches", "Iterator", "ItemProcessor"}


def diff_definitions(before: Definition, after: Definition, prefix: str = "") -> list[AslChange]:
    """What changed from `before` to `after`: states, transitions, Choice rules, Waits, Retry/Catch, Tasks."""
    changes: list[AslChange] = []
    if before.start_at != after.start_at:
        changes.append(
            AslChange(
                f"{prefix}StartAt",
                "modified",
                before.start_at,
                after.start_at,
                "high",
                f"StartAt changed from {before.start_at} to {after.start_at}",
            )
        )
    for key in sorted(set(before.body) | set(after.body) - {"States", "StartAt"}):
        if key in ("States", "StartAt") or before.body.get(key) == after.body.get(key):
            continue
        risk = "low" if key == "Comment" else "medium"
        changes.append(
            _modified(f"{prefix}{key}", before.body.get(key), after.body.get(key), risk, f"definition {key}")
        )
    for name in before.states.keys() - after.states.keys():
        state = before.states[name]
        changes.append(
            AslChange(
                f"{prefix}States.{name}",
                "removed",
                state.body,
                None,
                "high",
                f"{state.type} state {name} removed",
            )
        )
    for name in after.states.keys() - before.states.keys():
        state = after.states[name]
        changes.append(
            AslChange(
                f"{prefix}States.{name}",
                "added",
                None,
                state.body,
                "high",
                f"{state.type} state {name} added",
            )
        )
    for name in before.states.keys() & after.states.keys():
        changes.extend(_diff_state(before.states[name], after.states[name], f"{prefix}States.{name}"))
    return sorted(changes, key=lambda c: c.path)


def _diff_state(old: State, new: State, path: str) -> list[AslChange]:
    changes: list[AslChange] = []
    old_next = {(t.label, t.target) for t in _transitions_of(old) if t.kind != "catch"}
    new_next = {(t.label, t.target) for t in _transitions_of(new) if t.kind != "catch"}
    if old.type != "Choice" or new.type != "Choice":
        for label in ("Next",):
            before_target, after_target = old.body.get(label), new.body.get(label)
            if before_target != after_target:
                changes.append(
                    _modified(
                        f"{path}.{label}",
                        before_target,
                        after_target,
                        "high",
                        f"{old.name} now goes to {after_target or 'the end'} "
                        f"instead of {before_target or 'the end'}",
                    )
                )
    elif old_next != new_next or old.body.get("Choices") != new.body.get("Choices"):
        changes.extend(_diff_choices(old, new, path))
    if bool(old.body.get("End")) != bool(new.body.get("End")) and not changes:
        changes.append(
            _modified(
                f"{path}.End", old.body.get("End"), new.body.get("End"), "high", f"{old.name} End changed"
            )
        )
    changes.extend(_diff_catchers(old, new, path))
    for key in sorted((old.body.keys() | new.body.keys()) - _HANDLED):
        if old.body.get(key) == new.body.get(key):
            continue
        risk = _FIELD_RISK.get(key, "medium")
        if key == "Parameters" and _function_name(old.body) != _function_name(new.body):
            risk = "high"  # the Task now invokes another function
        changes.append(
            _modified(f"{path}.{key}", old.body.get(key), new.body.get(key), risk, f"{old.name} {key}")
        )
    for index, (a, b) in enumerate(zip(old.branches, new.branches, strict=False)):
        label = "ItemProcessor." if old.type == "Map" else f"Branches[{index}]."
        changes.extend(diff_definitions(a, b, f"{path}.{label}"))
    if len(old.branches) != len(new.branches):
        changes.append(
            _modified(
                f"{path}.Branches",
                len(old.branches),
                len(new.branches),
                "high",
                f"{old.name} has {len(new.branches)} branches instead of {len(old.branches)}",
            )
        )
    return changes


def _diff_choices(old: State, new: State, path: str) -> list[AslChange]:
    changes: list[AslChange] = []
    before_rules = as_list(old.body.get("Choices"))
    after_rules = as_list(new.body.get("Choices"))
    # rules are matched by position: the first rule that matches wins, so order is meaning
    for index in range(max(len(before_rules), len(after_rules))):
        a = before_rules[index] if index < len(before_rules) else None
        b = after_rules[index] if index < len(after_rules) else None
        if a == b:
            continue
        kind = "added" if a is None else "removed" if b is None else "modified"
        text_a = describe_rule(a) if a is not None else "nothing"
        text_b = describe_rule(b) if b is not None else "nothing"
        changes.append(
            AslChange(
                f"{path}.Choices[{index}]",
                kind,
                a,
                b,
                "high",
                f"Choice {old.name} rule {index + 1} was [{text_a}], now [{text_b}]",
            )
        )
    if old.body.get("Default") != new.body.get("Default"):
        changes.append(
            _modified(
                f"{path}.Default",
                old.body.get("Default"),
                new.body.get("Default"),
                "high",
                f"Choice {old.name} default goes to {new.body.get('Default')} "
                f"instead of {old.body.get('Default')}",
            )
        )
    return changes


def _diff_catchers(old: State, new: State, path: str) -> list[AslChange]:
    def by_errors(state: State) -> dict[str, Any]:
        return {
            ",".join(map(str, as_list(c.get("ErrorEquals")))): c
            for c in as_list(state.body.get("Catch"))
            if isinstance(c, Mapping)
        }

    a, b = by_errors(old), by_errors(new)
    changes = []
    for errors in sorted(a.keys() | b.keys()):
        if a.get(errors) == b.get(errors):
            continue
        kind = "added" if errors not in a else "removed" if errors not in b else "modified"
        target_a = (a.get(errors) or {}).get("Next")
        target_b = (b.get(errors) or {}).get("Next")
        changes.append(
            AslChange(
                f"{path}.Catch[{errors}]",
                kind,
                a.get(errors),
                b.get(errors),
                "high",
                f"{old.name} on {errors} goes to {target_b or 'nothing (not caught)'} "
                f"instead of {target_a or 'nothing (not caught)'}",
            )
        )
    return changes


def _function_name(body: Mapping[str, Any]) -> Any:
    parameters = body.get("Parameters")
    if isinstance(parameters, Mapping):
        return parameters.get("FunctionName") or parameters.get("FunctionName.$")
    return None


def _modified(path: str, before: Any, after: Any, risk: str, what: str) -> AslChange:
    kind = "added" if before is None else "removed" if after is None else "modified"
    return AslChange(path, kind, before, after, risk, f"{what}: {_short(before)} -> {_short(after)}")


def describe_rule(rule: Any) -> str:
    """A Choice rule as an operator reads it: $.status StringEquals 'COMPLETED' -> Done."""
    if not isinstance(rule, Mapping):
        return _short(rule)
    target = f" -> {rule['Next']}" if "Next" in rule else ""
    for combinator in ("And", "Or"):
        if isinstance(rule.get(combinator), list):
            inner = f" {combinator.lower()} ".join(describe_rule(r) for r in rule[combinator])
            return f"({inner}){target}"
    if isinstance(rule.get("Not"), Mapping):
        return f"not {describe_rule(rule['Not'])}{target}"
    if "Condition" in rule:
        return f"{rule['Condition']}{target}"
    operators = [k for k in rule if k not in ("Variable", "Next", "Comment", "Assign", "Output")]
    if operators:
        operator = operators[0]
        return f"{rule.get('Variable', '?')} {operator} {_short(rule[operator])}{target}"
    return _short(rule)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 3] + "..."
