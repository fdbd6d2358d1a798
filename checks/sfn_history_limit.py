"""SFN004: the execution's history is not close to Step Functions' 25,000-event limit."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checkapi import HIGH, HISTORY_LIMIT, SYMPTOM, Finding, check, fail, passed, skip, warn
from drsdoctor.snapshot import Snapshot

LIMIT = 25_000
WARN_AT = 0.8
HOURS_AHEAD = 6  # a running execution that will hit the limit within this is worth a warning now


@check(id="SFN004", service="states", severity=HIGH, layer=SYMPTOM,
       title="The execution history is far from the 25,000-event limit",
       remediation="Bound the polling loop (a counter in the Choice, a longer Wait, or a child execution per "
                   "wave) so {state_machine} cannot reach 25,000 events",
       reads=("execution", "history"))
def history_limit(snap: Snapshot) -> Iterator[Finding]:
    if snap.history is None or snap.execution is None:
        yield skip(snap.target, "no execution history")
        return
    if not snap.history.events and snap.history.total_events is None:
        yield skip(snap.execution.arn, "the execution history is empty: no event count to judge")
        return
    count = snap.history.event_count
    fix = {"state_machine": snap.execution.state_machine_arn or "the state machine"}
    arn = snap.execution.arn
    if count >= LIMIT:
        yield fail(arn, f"the history has {count} events: Step Functions fails an execution at {LIMIT}",
                   shows=HISTORY_LIMIT, fix=fix)
        return
    if count >= LIMIT * WARN_AT:
        yield warn(arn, f"the history has {count} of {LIMIT} events", shows=HISTORY_LIMIT, fix=fix)
        return
    events = snap.history.events
    if snap.execution.status == "RUNNING" and len(events) > 1:
        # the history's own timestamps: the rate holds even when our clock and AWS's disagree
        oldest, newest = min(e.timestamp for e in events), max(e.timestamp for e in events)
        seen = max(e.id for e in events) - min(e.id for e in events)
        hours = max((newest - oldest).total_seconds() / 3600, 1 / 60)
        per_hour = seen / hours
        left = (LIMIT - count) / per_hour
        if left < HOURS_AHEAD:
            yield warn(arn, f"at {per_hour:.0f} events an hour the history reaches {LIMIT} events in "
                            f"{left:.1f} hours ({count} now)", shows=HISTORY_LIMIT, fix=fix)
            return
    yield passed(arn, f"{count} of {LIMIT} history events")
