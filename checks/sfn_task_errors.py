"""SFN003: Task states do not fail or keep retrying (each failing state with its error, count and cause)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from drsdoctor.checks._fixes import missing_variable_fix, read_errors, state_function

from drsdoctor.checkapi import (
    EXECUTION_FAILED,
    EXECUTION_STUCK,
    HIGH,
    MECHANISM,
    TASK_FAILING,
    Finding,
    check,
    fail,
    passed,
    skip,
)
from drsdoctor.fixes import Remedy
from drsdoctor.snapshot import Snapshot

FAILURE_EVENTS = {
    "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed", "LambdaFunctionFailed",
    "LambdaFunctionTimedOut", "LambdaFunctionStartFailed", "LambdaFunctionScheduleFailed",
}


@dataclass
class _Failures:
    count: int = 0
    causes: list[str] = field(default_factory=list)


@check(id="SFN003", service="states", severity=HIGH, layer=MECHANISM, plan_step="transitions",
       title="Task states succeed without errors or retries",
       remediation="Read the cause of {state}'s {error} (the function's logs), fix it, and re-run",
       reads=("history",))
def task_errors(snap: Snapshot) -> Iterator[Finding]:
    if snap.history is None or not snap.history.events:
        yield skip(snap.target, "no execution history")
        return
    failures: dict[tuple[str, str], _Failures] = {}
    state = "(unknown state)"
    for event in snap.history.oldest_first():
        if event.type.endswith("StateEntered") and event.state_name:
            state = event.state_name
        elif event.type in FAILURE_EVENTS:
            error = str(event.details.get("error") or event.type)
            seen = failures.setdefault((state, error), _Failures())
            seen.count += 1
            cause = str(event.details.get("cause") or "")
            if cause and cause not in seen.causes:
                seen.causes.append(cause)
    if not failures:
        yield passed(snap.target, "no Task state failed")
        return
    ended = snap.execution is not None and snap.execution.status != "RUNNING"
    for (state, error), seen in failures.items():
        times = "once" if seen.count == 1 else f"{seen.count} times"
        denied = any("AccessDenied" in cause or "not authorized" in cause for cause in seen.causes)
        hint = " (a permission is missing)" if denied else ""
        yield fail(f"{snap.target}#{state}", f"state {state} failed with {error} {times}{hint}",
                   evidence=[cause[:500] for cause in seen.causes[:3]], shows=TASK_FAILING,
                   explains=(EXECUTION_FAILED,) if ended else (EXECUTION_STUCK,),
                   fix=_fix(snap, state, seen.causes) or {"state": state, "error": error})


def _fix(snap: Snapshot, state: str, causes: list[str]) -> Remedy | None:
    """A variable the state's function lacks put back, where its error names it; else its errors to read."""
    function = state_function(snap, state)
    if function is None:
        return None
    texts = [*causes, *function.recent_errors]
    return missing_variable_fix(snap, function, texts) or read_errors(function.name)
