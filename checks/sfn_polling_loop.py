"""SFN002: a running execution is not going round its polling loop with its status stuck.

The loop's states come from the definition's cycles (drsdoctor.asl) where it parses, else from the
history (states entered again and again). The loop's state outputs are compared iteration by
iteration: a status that has stayed the same for the last rounds is stuck when it says nothing
(UNKNOWN), when it is finished yet the loop goes on (the Choice does not act on it), or when an
in-progress status outlasts a wave's timeout.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from drsdoctor.checks._common import at, timings

from drsdoctor.cache import computed_once
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
)
from drsdoctor.snapshot import HistoryEvent, Snapshot

MIN_ITERATIONS = 5  # fewer rounds than this is a wave still launching, not a stuck loop
UNKNOWN = {"UNKNOWN", "", None}
FINISHED = {"COMPLETED", "SUCCEEDED", "FAILED", "LAUNCHED", "CANCELLED"}
DEFAULT_WAVE_TIMEOUT = timedelta(minutes=60)  # when the design sets no wave timeout


@dataclass
class Streak:
    """A status field of the loop's outputs and how long it has kept its latest value."""

    path: str
    value: Any
    rounds: int
    since: datetime


@check(id="SFN002", service="states", severity=CRITICAL, layer=SYMPTOM, plan_step="transitions",
       title="A running execution is not looping with its status stuck",
       remediation="Find why {value} does not move the execution on: see the mechanism and cause findings",
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
    entries = [e for e in events if e.type.endswith("StateEntered") and e.state_name in loop]
    order = _order(entries)
    iterations = sum(1 for event in entries if order and event.state_name == order[0])
    if iterations < MIN_ITERATIONS:
        yield passed(execution.arn, f"no state repeated {MIN_ITERATIONS} times or more")
        return
    since = entries[0].timestamp
    looping = f"{' -> '.join(order)} ({iterations} iterations since {at(now_of(snap), since)})"
    partial = [] if history.complete else ["only the newest events were read: the loop may be older"]
    streaks = _streaks(events, loop)
    stuck = [(streak, why) for streak in streaks if (why := _stuck(streak, snap))]
    if stuck:
        streak, why = stuck[0]
        yield fail(execution.arn, f"the execution loops {looping}; {streak.path} has stayed "
                                  f"{json.dumps(streak.value)} for {streak.rounds} rounds since "
                                  f"{at(now_of(snap), streak.since)}: {why}",
                   evidence=[f"{s.path} = {json.dumps(s.value)} for the last {s.rounds} rounds"
                             for s, _ in stuck] + partial, shows=EXECUTION_STUCK, fix={"value": streak.path})
        return
    moving = ", ".join(f"{s.path}={json.dumps(s.value)}" for s in streaks[:2]) or "no status field"
    yield passed(execution.arn, f"the execution polls {looping}; now {moving}")


def _stuck(streak: Streak, snap: Snapshot) -> str | None:
    if streak.rounds < MIN_ITERATIONS:
        return None
    value = streak.value.upper() if isinstance(streak.value, str) else streak.value
    if value in UNKNOWN:
        return "the poller never learns the wave's status"
    if value in FINISHED:
        return "the wave is finished but the loop does not act on it"
    ended = _wave_job_ended(snap)
    if ended is not None and now_of(snap) - ended >= MIN_ITERATIONS * _poll_interval(snap):
        return (f"DRS ended the wave's job at {at(now_of(snap), ended)}, "
                "yet the status the loop reads has not moved")
    if now_of(snap) - streak.since > _wave_timeout(snap):
        return f"longer than a wave may take ({int(_wave_timeout(snap).total_seconds() // 60)} minutes)"
    return None


def _wave_job_ended(snap: Snapshot) -> datetime | None:
    """When DRS finished every job of the current wave, or None while any still runs (or none is known)."""
    wave = snap.execution_record.current_wave() if snap.execution_record else None
    jobs = [snap.job(wave.job_id)] if wave and wave.job_id else []
    if not jobs or any(job is None or job.status != "COMPLETED" or job.end_time is None for job in jobs):
        return None
    return max(job.end_time for job in jobs if job and job.end_time)


def _poll_interval(snap: Snapshot) -> timedelta:
    record = snap.execution_record
    if record and record.poll_interval_seconds:
        return timedelta(seconds=record.poll_interval_seconds)
    return timedelta(seconds=timings(snap)[0] or 30)


def _wave_timeout(snap: Snapshot) -> timedelta:
    minutes = timings(snap)[1]
    return timedelta(minutes=minutes) if minutes else DEFAULT_WAVE_TIMEOUT


def _loop_states(snap: Snapshot, events: list[HistoryEvent]) -> set[str]:
    entered = Counter(e.state_name for e in events if e.type.endswith("StateEntered") and e.state_name)
    repeated = {name for name, count in entered.items() if count >= MIN_ITERATIONS}
    definition = snap.state_machine.definition if snap.state_machine else ""
    try:
        cycles = _cycles(definition) if definition else ()
    except Exception:  # an unparseable definition: the history alone still shows the loop
        cycles = ()
    # a cycle of the graph may hold the wave loop around the polling loop: keep what really repeated
    for cycle in cycles:
        if repeated & set(cycle):
            return repeated & set(cycle)
    return repeated


@computed_once(maxsize=16)  # every execution of a machine has the same definition
def _cycles(definition: str) -> tuple[tuple[str, ...], ...]:
    from drsdoctor.asl import parse_definition

    return tuple(tuple(cycle) for cycle in parse_definition(definition).find_cycles())


def _order(entries: list[HistoryEvent]) -> list[str]:
    return list(dict.fromkeys(event.state_name for event in entries if event.state_name))


def _streaks(events: list[HistoryEvent], loop: set[str]) -> list[Streak]:
    """For each status-like output field of the loop's states: its latest value and how long it has held."""
    streaks: dict[tuple[str, str], Streak] = {}  # per state, so one round counts once
    for event in events:
        if not (event.type.endswith("StateExited") and event.state_name in loop):
            continue
        try:
            output = json.loads(event.details.get("output") or "null")
        except ValueError:
            continue
        for path, value in _flatten(output, "$"):
            if "status" not in path.lower():  # identifiers never change and say nothing
                continue
            key = (event.state_name or "", path)
            known = streaks.get(key)
            if known is not None and known.value == value:
                known.rounds += 1
            else:
                streaks[key] = Streak(path, value, 1, event.timestamp)
    longest: dict[str, Streak] = {}
    for streak in sorted(streaks.values(), key=lambda streak: -streak.rounds):
        longest.setdefault(streak.path, streak)
    return list(longest.values())


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}")
    elif not isinstance(value, list):
        yield prefix, value
