"""The semantic diff of two state machine definitions, state by state (see drsdoctor.asl)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from drsdoctor.asl import AslChange, Definition, State, _transitions_of, as_list
from drsdoctor.diff.inner import describe

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
    # JSONata (QueryLanguage: JSONata): what a state passes on and keeps, in its own fields
    "Output": "medium",
    "Assign": "medium",
    "Items": "medium",
    "ItemSelector": "medium",
    "QueryLanguage": "high",
}
_HANDLED = {"Next", "End", "Default", "Choices", "Catch", "Retry", "Branches", "Iterator", "ItemProcessor"}
# what a Choice rule does besides testing: where it goes and what it keeps
_RULE_EFFECTS = ("Next", "Comment", "Assign", "Output")


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
    changes.extend(_diff_retriers(old, new, path))
    for key in sorted((old.body.keys() | new.body.keys()) - _HANDLED):
        if old.body.get(key) == new.body.get(key):
            continue
        risk = _FIELD_RISK.get(key, "medium")
        if key in ("Parameters", "Arguments") and _function_name(old.body) != _function_name(new.body):
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
    """Rules matched by what they test, not by position: one rule inserted is one rule added.

    The first rule that matches wins, so a change of order among the same rules is a change too.
    """
    changes: list[AslChange] = []
    before_rules = as_list(old.body.get("Choices"))
    after_rules = as_list(new.body.get("Choices"))
    pairs, removed, added = match_rules(before_rules, after_rules)
    for i, j in pairs:
        a, b = before_rules[i], after_rules[j]
        if a != b:
            changes.append(
                AslChange(
                    f"{path}.Choices[{j}]",
                    "modified",
                    a,
                    b,
                    "high",
                    f"Choice {old.name} rule {j + 1} was [{describe_rule(a)}], now [{describe_rule(b)}]",
                )
            )
    for i in removed:
        rule = before_rules[i]
        changes.append(
            AslChange(f"{path}.Choices[{i}]", "removed", rule, None, "high",
                      f"Choice {old.name} rule {i + 1} [{describe_rule(rule)}] removed")
        )
    for j in added:
        rule = after_rules[j]
        changes.append(
            AslChange(f"{path}.Choices[{j}]", "added", None, rule, "high",
                      f"Choice {old.name} rule {j + 1} [{describe_rule(rule)}] added")
        )
    order = [j for _, j in sorted(pairs)]
    if order != sorted(order):
        changes.append(
            AslChange(
                f"{path}.Choices",
                "modified",
                [_test_of(before_rules[i]) for i, _ in sorted(pairs)],
                [_test_of(after_rules[j]) for j in sorted(order)],
                "high",
                f"Choice {old.name} tests the same rules in another order (the first that matches wins)",
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


def match_rules(before: list[Any], after: list[Any]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(pairs of indexes, removed indexes, added indexes): equal rules first, then rules testing the same
    thing (variable or condition, comparison and value), then the same variable and comparison, then
    what is left in order (a rule rewritten in place)."""
    pairs: list[tuple[int, int]] = []
    left_a, left_b = list(range(len(before))), list(range(len(after)))
    for key in (_whole, _test_of, _subject_of):
        for i in list(left_a):
            for j in left_b:
                if key(before[i]) == key(after[j]):
                    pairs.append((i, j))
                    left_a.remove(i)
                    left_b.remove(j)
                    break
    if left_a and left_b and len(left_a) == len(left_b):
        pairs += list(zip(left_a, left_b, strict=True))
        left_a, left_b = [], []
    return sorted(pairs), left_a, left_b


def _whole(rule: Any) -> str:
    return json.dumps(rule, sort_keys=True, default=str)


def _test_of(rule: Any) -> str:
    """What a rule tests, without where it goes: `$.status StringEquals 'COMPLETED'`."""
    if not isinstance(rule, Mapping):
        return _short(rule)
    return describe_rule({k: v for k, v in rule.items() if k not in _RULE_EFFECTS})


def _subject_of(rule: Any) -> str:
    """What a rule looks at and how, without the value it compares with: `$.status StringEquals`."""
    if not isinstance(rule, Mapping):
        return _short(rule)
    for combinator in ("And", "Or"):
        if isinstance(rule.get(combinator), list):
            return f"{combinator}(" + ", ".join(sorted(_subject_of(r) for r in rule[combinator])) + ")"
    if isinstance(rule.get("Not"), Mapping):
        return "not " + _subject_of(rule["Not"])
    if "Condition" in rule:  # JSONata: the expression is the whole test
        return f"Condition {rule['Condition']}"
    operators = sorted(k for k in rule if k not in (*_RULE_EFFECTS, "Variable"))
    return f"{rule.get('Variable', '?')} {' '.join(operators)}"


def _by_errors(state: State, field: str) -> dict[str, Any]:
    return {
        ",".join(map(str, as_list(c.get("ErrorEquals")))): c
        for c in as_list(state.body.get(field))
        if isinstance(c, Mapping)
    }


def _diff_catchers(old: State, new: State, path: str) -> list[AslChange]:
    a, b = _by_errors(old, "Catch"), _by_errors(new, "Catch")
    changes = []
    for errors in sorted(a.keys() | b.keys()):
        if a.get(errors) == b.get(errors):
            continue
        kind = "added" if errors not in a else "removed" if errors not in b else "modified"
        target_a = (a.get(errors) or {}).get("Next")
        target_b = (b.get(errors) or {}).get("Next")
        if kind == "modified" and target_a == target_b:
            summary = f"{old.name} on {errors} (still to {target_a}): {describe(a[errors], b[errors])}"
        else:
            summary = (f"{old.name} on {errors} goes to {target_b or 'nothing (not caught)'} "
                       f"instead of {target_a or 'nothing (not caught)'}")
        changes.append(
            AslChange(f"{path}.Catch[{errors}]", kind, a.get(errors), b.get(errors), "high", summary)
        )
    return changes


def _diff_retriers(old: State, new: State, path: str) -> list[AslChange]:
    """Retry entries matched by the errors they retry: one policy changed is one change."""
    a, b = _by_errors(old, "Retry"), _by_errors(new, "Retry")
    changes = []
    for errors in sorted(a.keys() | b.keys()):
        if a.get(errors) == b.get(errors):
            continue
        if errors not in a:
            summary = f"{old.name} now retries {errors}: {_short(b[errors])}"
        elif errors not in b:
            summary = f"{old.name} no longer retries {errors} (was {_short(a[errors])})"
        else:
            summary = f"{old.name} retries {errors} differently: {describe(a[errors], b[errors])}"
        changes.append(_change(f"{path}.Retry[{errors}]", a.get(errors), b.get(errors), "medium", summary))
    if not changes and list(a) != list(b):
        changes.append(_change(f"{path}.Retry", list(a), list(b), "medium",
                               f"{old.name} tries its Retry policies in another order"))
    return changes


def _change(path: str, before: Any, after: Any, risk: str, summary: str) -> AslChange:
    kind = "added" if before is None else "removed" if after is None else "modified"
    return AslChange(path, kind, before, after, risk, summary)


def _function_name(body: Mapping[str, Any]) -> Any:
    for field in ("Parameters", "Arguments"):  # JSONPath and JSONata spell a Task's input differently
        parameters = body.get(field)
        if isinstance(parameters, Mapping):
            return parameters.get("FunctionName") or parameters.get("FunctionName.$")
    return None


def _modified(path: str, before: Any, after: Any, risk: str, what: str) -> AslChange:
    kind = "added" if before is None else "removed" if after is None else "modified"
    return AslChange(path, kind, before, after, risk, f"{what}: {describe(before, after)}")


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
