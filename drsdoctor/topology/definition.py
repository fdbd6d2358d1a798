"""What a state machine definition calls: every Task's target (Lambda functions, direct service
integrations, child state machines, callbacks), in JSONPath and JSONata alike, Map and Parallel
branches included, and which of them run inside a polling loop."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from drsdoctor.asl import AslError, Definition, State, parse_definition

_INTEGRATION = re.compile(r"^arn:[\w-]+:states:::(?:aws-sdk:)?(?P<service>[\w-]+):(?P<action>[\w.]+)$")
_JSONATA_INPUT = re.compile(r"^\{%\s*\$states\.input((?:\.\w+)+)\s*%\}$")
_CALLBACK = ".waitForTaskToken"


@dataclass
class TaskTarget:
    state: str
    kind: str  # function | integration | machine
    target: str  # function name/ARN, service:action, state machine ARN; "" when chosen at run time
    callback: bool = False  # waits for a task token
    in_loop: bool = False  # inside a Task -> Wait -> Choice loop
    evidence: str = ""


def task_targets(text: str, execution_input: dict[str, Any]) -> tuple[list[TaskTarget], list[str]]:
    """Every Task's target, and notes on what could not be told (a target chosen at run time that this
    execution's input does not name)."""
    try:
        parsed = parse_definition(text)
    except AslError as error:
        return [], [f"state machine definition could not be read: {error}"]
    found: list[TaskTarget] = []
    notes: list[str] = []
    for definition in _definitions(parsed):
        looping = _loop_states(definition)
        for state in definition.states.values():
            if state.type != "Task":
                continue
            target = _target(state, execution_input, notes)
            if target is not None:
                target.in_loop = state.name in looping
                found.append(target)
    return found, notes


def _definitions(definition: Definition) -> Iterator[Definition]:
    yield definition
    for state in definition.states.values():
        for branch in state.branches:
            yield from _definitions(branch)


def _loop_states(definition: Definition) -> set[str]:
    """The states of the shortest way round from each Wait back to itself: the poll (Task -> Wait -> Choice),
    not the wider loop over the waves that contains it."""
    looping: set[str] = set()
    for cycle in definition.find_cycles():
        for wait in (name for name in cycle if definition.states[name].type == "Wait"):
            looping.update(_shortest_cycle(definition, wait, set(cycle)))
    return looping


def _shortest_cycle(definition: Definition, start: str, within: set[str]) -> list[str]:
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for name in frontier:
            for successor in definition.successors(name):
                if successor == start:
                    path = [name]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return path
                if successor in within and successor not in came_from:
                    came_from[successor] = name
                    following.append(successor)
        frontier = following
    return []


def _target(state: State, execution_input: dict[str, Any], notes: list[str]) -> TaskTarget | None:
    resource = str(state.body.get("Resource", ""))
    arguments = state.body.get("Parameters") or state.body.get("Arguments") or {}
    arguments = arguments if isinstance(arguments, dict) else {}
    callback = resource.endswith(_CALLBACK)
    base = resource[: -len(_CALLBACK)] if callback else resource.removesuffix(".sync").removesuffix(":2")
    if ":lambda:" in resource and ":function:" in resource:
        return TaskTarget(
            state.name, "function", resource, callback, evidence=f"Task {state.name} has Resource {resource}"
        )
    match = _INTEGRATION.match(base)
    if match is None:
        if resource:
            notes.append(f"Task {state.name} calls {resource}: not followed")
        return None
    service, action = match["service"], match["action"]
    if service == "lambda" and action == "invoke":
        name = _argument(arguments, "FunctionName", execution_input)
        if name is None:
            notes.append(
                f"Task {state.name} chooses its function at run time and this execution's input does "
                "not name it"
            )
            return None
        return TaskTarget(
            state.name, "function", name, callback, evidence=f"Task {state.name} invokes FunctionName {name}"
        )
    if service == "states" and action.startswith("startExecution"):
        child = _argument(arguments, "StateMachineArn", execution_input) or ""
        return TaskTarget(
            state.name,
            "machine",
            child,
            callback,
            evidence=f"Task {state.name} starts state machine {child or '(chosen at run time)'}",
        )
    return TaskTarget(
        state.name,
        "integration",
        f"{service}:{action}",
        callback,
        evidence=f"Task {state.name} calls {service}:{action} directly ({resource})",
    )


def _argument(arguments: dict[str, Any], name: str, execution_input: dict[str, Any]) -> str | None:
    """A literal argument, or one taken from the execution's input ($.path or {% $states.input.path %})."""
    literal = arguments.get(name)
    if isinstance(literal, str) and not literal.startswith("{%"):
        return literal
    path = arguments.get(f"{name}.$")
    if isinstance(path, str) and path.startswith("$.") and "$$" not in path:
        return _lookup(execution_input, path[2:].split("."))
    jsonata = _JSONATA_INPUT.match(literal) if isinstance(literal, str) else None
    if jsonata:
        return _lookup(execution_input, jsonata.group(1).strip(".").split("."))
    return None


def _lookup(data: Any, path: list[str]) -> str | None:
    for step in path:
        if not isinstance(data, dict) or step not in data:
            return None
        data = data[step]
    return data if isinstance(data, str) else None
