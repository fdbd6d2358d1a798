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


def as_list(value: Any) -> list[Any]:
    """A field that should be a list, or nothing: a malformed definition never crashes the graph."""
    return value if isinstance(value, list) else []


def _transitions_of(state: State) -> Iterator[Transition]:
    body = state.body
    if isinstance(body.get("Next"), str):
        yield Transition(state.name, body["Next"], "next", "Next")
    if state.type == "Choice":
        for index, rule in enumerate(as_list(body.get("Choices"))):
            if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                yield Transition(state.name, rule["Next"], "choice", f"Choices[{index}]")
        if isinstance(body.get("Default"), str):
            yield Transition(state.name, body["Default"], "default", "Default")
    for index, catcher in enumerate(as_list(body.get("Catch"))):
        if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
            errors = ",".join(map(str, as_list(catcher.get("ErrorEquals"))))
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


# Semantic diff: the rules live in drsdoctor.asl_diff; these names are the public API -------------------


@dataclass(frozen=True)
class AslChange:
    """One difference between two definitions; `path` is like States.CheckWave.Choices[0]."""

    path: str
    kind: str  # added | removed | modified
    before: Any
    after: Any
    risk: str  # high | medium | low
    summary: str


def diff_definitions(before: Definition, after: Definition, prefix: str = "") -> list[AslChange]:
    """What changed from `before` to `after`: states, transitions, Choice rules, Waits, Retry/Catch, Tasks."""
    from drsdoctor.asl_diff import diff_definitions as diff

    return diff(before, after, prefix)


def describe_rule(rule: Any) -> str:
    """A Choice rule as an operator reads it: $.status StringEquals 'COMPLETED' -> Done."""
    from drsdoctor.asl_diff import describe_rule as describe

    return describe(rule)
