"""Step Functions state machine definitions (Amazon States Language): parse, graph, loops, semantic diff.

Definitions are compared state by state, never as JSON text: a reordered key or a reformatted
document is no change, a Choice rule that now compares "Completed" instead of "COMPLETED" is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from drsdoctor.errors import InputError


class AslError(InputError):
    """A definition that is not valid JSON or not a state machine."""


@dataclass(frozen=True)
class Transition:
    """One edge of the state graph: `kind` is next, default, choice or catch; `label` says which one."""

    source: str
    target: str
    kind: str
    label: str


@dataclass
class State:
    name: str
    type: str
    body: dict[str, Any]
    branches: list[Definition] = field(default_factory=list)

    @property
    def is_end(self) -> bool:
        return bool(self.body.get("End")) or self.type in ("Succeed", "Fail")


@dataclass
class Definition:
    start_at: str
    states: dict[str, State]
    body: dict[str, Any]

    def transitions(self) -> list[Transition]:
        """Every edge out of every state, in document order."""
        edges: list[Transition] = []
        for state in self.states.values():
            edges.extend(_transitions_of(state))
        return edges

    def successors(self, name: str) -> list[str]:
        return [edge.target for edge in _transitions_of(self.states[name])]

    def reachable(self) -> set[str]:
        """States reachable from StartAt; the rest can never run."""
        seen: set[str] = set()
        pending = [self.start_at] if self.start_at in self.states else []
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            pending.extend(t for t in self.successors(name) if t in self.states)
        return seen

    def find_cycles(self) -> list[list[str]]:
        """Loops in the graph: each strongly connected component that can repeat, in visiting order.

        A polling loop (Wait -> Poll -> Choice -> Wait) comes back as one list of its state names,
        starting with the state reached first from StartAt.
        """
        order = _visit_order(self)
        components = _strongly_connected(self)
        cycles = []
        for component in components:
            name = next(iter(component))
            if len(component) > 1 or name in self.successors(name):
                cycles.append(sorted(component, key=lambda n: order.get(n, len(order))))
        return sorted(cycles, key=lambda c: order.get(c[0], len(order)))

    def loop_exits(self, cycle: list[str]) -> list[Transition]:
        """Edges leaving a loop: if none can fire, the loop runs until the execution's history is full."""
        inside = set(cycle)
        return [t for n in cycle for t in _transitions_of(self.states[n]) if t.target not in inside]


def parse_definition(source: str | bytes | Mapping[str, Any]) -> Definition:
    """Parse a definition from its JSON text or an already decoded mapping."""
    if isinstance(source, (str, bytes)):
        try:
            body = json.loads(source)
        except (ValueError, RecursionError) as error:
            raise AslError(f"state machine definition is not valid JSON: {error}") from None
    else:
        body = source
    return _parse_body(body, "definition")


def _parse_body(body: Any, where: str) -> Definition:
    if not isinstance(body, Mapping):
        raise AslError(f"{where} is not a JSON object")
    states_body = body.get("States")
    start_at = body.get("StartAt")
    if not isinstance(states_body, Mapping) or not isinstance(start_at, str):
        raise AslError(f"{where} has no StartAt and States: not a state machine definition")
    states: dict[str, State] = {}
    for name, state_body in states_body.items():
        if not isinstance(state_body, Mapping) or not isinstance(state_body.get("Type"), str):
            raise AslError(f"{where}: state {name!r} has no Type")
        states[str(name)] = State(
            str(name), state_body["Type"], dict(state_body), _branches_of(str(name), state_body, where)
        )
    return Definition(start_at, states, dict(body))


def _branches_of(name: str, body: Mapping[str, Any], where: str) -> list[Definition]:
    if body.get("Type") == "Parallel":
        branches = body.get("Branches") or []
        if not isinstance(branches, list):
            raise AslError(f"{where}: state {name!r} Branches is not a list")
        return [_parse_body(b, f"{where}: {name}.Branches[{i}]") for i, b in enumerate(branches)]
    if body.get("Type") == "Map":
        inner = body.get("ItemProcessor") or body.get("Iterator")
        return [_parse_body(inner, f"{where}: {name}.ItemProcessor")] if inner is not None else []
    return []


def _transitions_of(state: State) -> Iterator[Transition]:
    body = state.body
    if isinstance(body.get("Next"), str):
        yield Transition(state.name, body["Next"], "next", "Next")
    if state.type == "Choice":
        for index, rule in enumerate(body.get("Choices") or []):
            if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                yield Transition(state.name, rule["Next"], "choice", f"Choices[{index}]")
        if isinstance(body.get("Default"), str):
            yield Transition(state.name, body["Default"], "default", "Default")
    for index, catcher in enumerate(body.get("Catch") or []):
        if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
            errors = ",".join(catcher.get("ErrorEquals") or [])
            yield Transition(state.name, catcher["Next"], "catch", f"Catch[{index}]({errors})")


def _visit_order(definition: Definition) -> dict[str, int]:
    order: dict[str, int] = {}
    pending = [definition.start_at]
    while pending:
        name = pending.pop(0)
        if name in order or name not in definition.states:
            continue
        order[name] = len(order)
        pending.extend(definition.successors(name))
    return order


def _strongly_connected(definition: Definition) -> list[set[str]]:
    """Tarjan's algorithm, iterative so a long chain of states cannot overflow the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for root in definition.states:
        if root in index:
            continue
        work = [(root, iter(definition.successors(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in definition.states), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(definition.successors(child))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


# Semantic diff -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AslChange:
    """One difference between two definitions; `path` is like States.CheckWave.Choices[0]."""

    path: str
    kind: str  # added | removed | modified
    before: Any
    after: Any
    risk: str  # high | medium | low
    summary: str


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
    before_rules = old.body.get("Choices") or []
    after_rules = new.body.get("Choices") or []
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
            ",".join(c.get("ErrorEquals") or []): c
            for c in state.body.get("Catch") or []
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
