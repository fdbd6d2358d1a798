"""SFN001: the execution ended FAILED, TIMED_OUT or ABORTED: which state failed, with what error and cause."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checkapi import CRITICAL, EXECUTION_FAILED, SYMPTOM, Finding, check, fail, passed, skip
from drsdoctor.snapshot import HistoryEvent, Snapshot

ENDED_BADLY = {"FAILED", "TIMED_OUT", "ABORTED"}
_END_EVENTS = {"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


@check(id="SFN001", service="states", severity=CRITICAL, layer=SYMPTOM, plan_step="transitions",
       title="The execution has not failed, timed out or been aborted",
       remediation="Fix what the failing state reports, then start a new execution of {state_machine}",
       reads=("execution", "history"))
def execution_ended(snap: Snapshot) -> Iterator[Finding]:
    execution = snap.execution
    if execution is None:
        yield fail(snap.target, "the execution was not found", shows=EXECUTION_FAILED)
        return
    if not execution.status:  # a bundle with a blank status tells nothing about how it ended
        yield skip(execution.arn, "the execution's status is unknown")
        return
    if execution.status not in ENDED_BADLY:
        yield passed(execution.arn, f"the execution is {execution.status}")
        return
    events = snap.history.oldest_first() if snap.history else []
    state = _failing_state(events)
    error, cause = execution.error, execution.cause
    end = next((event for event in reversed(events) if event.type in _END_EVENTS), None)
    if end is not None:
        error = error or end.details.get("error")
        cause = cause or end.details.get("cause")
    where = f" in state {state}" if state else ""
    what = f": {error}" if error else ""
    evidence = [f"cause: {cause}"] if cause else []
    if execution.stop_date:
        evidence.append(f"stopped at {execution.stop_date.isoformat()}")
    fix = {"state_machine": execution.state_machine_arn or "the state machine"}
    yield fail(execution.arn, f"the execution is {execution.status}{where}{what}", evidence=evidence,
               shows=EXECUTION_FAILED, fix=fix)


def _failing_state(events: list[HistoryEvent]) -> str | None:
    """The last state entered and never exited: where the execution was when it ended."""
    exited_later: set[str] = set()
    for event in reversed(events):
        name = event.state_name
        if name is None:
            continue
        if event.type.endswith("StateExited"):
            exited_later.add(name)
        elif name in exited_later:
            exited_later.discard(name)
        else:
            return name
    return None
