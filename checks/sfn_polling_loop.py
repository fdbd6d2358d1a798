"""SFN002: a running execution is not going round its polling loop with nothing changing.

The loop's states come from the definition's cycles (drsdoctor.asl) where it parses, else from the
history (states entered again and again). The value that never changes is found by comparing the
outputs of the loop's states iteration by iteration: a status field stuck at UNKNOWN says it all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from drsdoctor.checks._common import ago, clock

from drsdoctor.checkapi import (
    CRITICAL,
    EXECUTION_STUCK,
    SYMPTOM,
    Finding,
    check,
    fail,
    now_of,
    passed,
    skip,
    warn,
)
from drsdoctor.snapshot import HistoryEvent, Snapshot

MIN_ITERATIONS = 5  # fewer rounds than this is a wave still launching, not a stuck loop


@check(id="SFN002", service="states", severity=CRITICAL, layer=SYMPTOM, plan_step="transitions",
       title="A running execution is not looping with nothing changing",
       remediation="Find why {value} never changes: see the mechanism and cause findings below",
       reads=("execution", "history"))
def polling_loop(snap: Snapshot) -> Iterator[Finding]:
    execution, history = snap.execution, snap.history
    if execution is None or history is None or not history.events:
        yield skip(snap.target, "no execution history")
        return
    if execution.status != "RUNNING":
        yield passed(execution.arn, f"the execution is {execution.status}, not looping")
        return
    events = history.oldest_first()
    loop = _loop_states(snap, events)
    entries = [event for event in events if event.type.endswith("StateEntered") and event.state_name in loop]
    head = next((name for name in _order(entries) if name in loop), None)
    iterations = sum(1 for event in entries if event.state_name == head)
    if head is None or iterations < MIN_ITERATIONS:
        yield passed(execution.arn, f"no state repeated {MIN_ITERATIONS} times or more")
        return
    since = entries[0].timestamp
    states = " -> ".join(_order(entries))
    looping = f"{states} ({iterations} iterations since {clock(since)}, {ago(now_of(snap), since)})"
    partial = [] if history.complete else ["only the newest events were read: the loop may be older"]
    frozen, moving = _values(events, loop)
    if frozen:
        path, value = frozen[0]
        yield fail(execution.arn, f"the execution loops {looping} and {path} stays {json.dumps(value)}",
                   evidence=[f"{p} = {json.dumps(v)} in every iteration" for p, v in frozen[:5]] + partial,
                   shows=EXECUTION_STUCK, fix={"value": path})
    elif moving:
        yield passed(execution.arn, f"the execution polls {looping} and {moving[0]} changes")
    else:
        yield warn(execution.arn, f"the execution loops {looping}", evidence=partial, shows=EXECUTION_STUCK,
                   fix={"value": "the wave status"})


def _loop_states(snap: Snapshot, events: list[HistoryEvent]) -> set[str]:
    entered = Counter(e.state_name for e in events if e.type.endswith("StateEntered") and e.state_name)
    definition = snap.state_machine.definition if snap.state_machine else ""
    try:
        from drsdoctor.asl import parse_definition

        cycles = parse_definition(definition).find_cycles() if definition else []
    except Exception:  # an unparseable definition: the history alone still shows the loop
        cycles = []
    repeated = {name for name, count in entered.items() if count >= MIN_ITERATIONS}
    # a cycle of the graph may hold the wave loop around the polling loop: keep what really repeated
    for cycle in cycles:
        if repeated & set(cycle):
            return repeated & set(cycle)
    return repeated


def _order(entries: list[HistoryEvent]) -> list[str]:
    seen: list[str] = []
    for event in entries:
        if event.state_name and event.state_name not in seen:
            seen.append(event.state_name)
    return seen


def _values(events: list[HistoryEvent], loop: set[str]) -> tuple[list[tuple[str, Any]], list[str]]:
    """Output fields of the loop's states: those equal in every iteration, and those that change."""
    seen: dict[str, list[Any]] = {}
    for event in events:
        if not (event.type.endswith("StateExited") and event.state_name in loop):
            continue
        try:
            output = json.loads(event.details.get("output") or "null")
        except ValueError:
            continue
        for path, value in _flatten(output, f"$.{event.state_name}" if not isinstance(output, dict) else "$"):
            seen.setdefault(path, []).append(value)
    frozen = [(path, values[0]) for path, values in seen.items()
              if len(values) >= MIN_ITERATIONS and all(v == values[0] for v in values)]
    moving = [path for path, values in seen.items()
              if len({json.dumps(v, sort_keys=True) for v in values}) > 1]
    # status-like fields explain a loop; identifiers (executionId, waveNumber) never change and say nothing
    frozen = [item for item in frozen if "status" in item[0].lower()]
    moving = sorted(moving, key=lambda path: "status" not in path.lower())
    return frozen, moving


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}")
    elif not isinstance(value, list):
        yield prefix, value
