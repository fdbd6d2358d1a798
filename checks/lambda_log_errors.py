"""LMB004: the functions' recent logs have no errors (what keeps the poller from reading its job).

A function's log is shared by every run of the state machine: a line is this execution's unless it names
another execution, and a function the state machine calls logs this execution's failures only when one of
its Task states failed (fifty plans at DRS's job quota: the thirty refused log errors, the twenty waiting
for their wave did nothing wrong)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from drsdoctor.checks._common import function_label
from drsdoctor.checks._fixes import missing_variable_fix, read_errors
from drsdoctor.checks.sfn_task_errors import FAILURE_EVENTS

from drsdoctor.checkapi import (
    EXECUTION_STUCK,
    HIGH,
    MECHANISM,
    POLLER_FAILING,
    TASK_FAILING,
    WAVE_STATUS_STALE,
    Finding,
    check,
    error,
    fail,
    passed,
    skip,
    warn,
)
from drsdoctor.snapshot import Snapshot

SHOWS = {"finder": POLLER_FAILING, "poller": POLLER_FAILING, "orchestration": TASK_FAILING}
_DENIED = ("AccessDenied", "not authorized", "UnauthorizedOperation")
_MISSING = ("ResourceNotFoundException", "Requested resource not found", "does not exist")
EXECUTION_ARN = re.compile(r"arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[\w.-]+:[\w.-]+")


@check(id="LMB004", service="lambda", severity=HIGH, layer=MECHANISM, plan_step="eventbridge",
       title="The functions' recent logs show no errors",
       remediation="Read the errors of {function} in its log group /aws/lambda/{function}",
       reads=("functions",))
def log_errors(snap: Snapshot) -> Iterator[Finding]:
    if not snap.functions:
        yield skip(snap.target, "no functions were found")
        return
    own_failure = _tasks_failed(snap)
    for function in snap.functions:
        if not function.recent_errors:
            yield passed(function.arn, f"no errors in the recent logs of {function.name}")
            continue
        logged = f"{function_label(function)} logged {len(function.recent_errors)} error line(s)"
        if function.kind == "orchestration" and own_failure is False:
            yield skip(function.arn, f"{logged}, other runs': no Task state of this execution failed")
            continue
        if function.kind == "orchestration" and snap.history is None:
            unread = snap.missing("history")
            why = f": {unread.describe()}" if unread else ""
            yield error(function.arn, f"{logged}; whether they are this execution's cannot be told without "
                                      f"its history{why}")
            continue
        lines = [line for line in function.recent_errors if not _another_run(line, snap.target)]
        if not lines:
            yield skip(function.arn, f"{logged}, each naming another execution")
            continue
        kinds = [word for word, found in (("permission denied", _any(lines, _DENIED)),
                                          ("resource not found", _any(lines, _MISSING))) if found]
        what = f" ({', '.join(kinds)})" if kinds else ""
        # Lambda joins a traceback to its error line with \r: the error line alone says what went wrong.
        first = lines[0].split("\r", 1)[0][:200]
        detail = f"{function_label(function)} logged {len(lines)} error line(s){what}: {first}"
        fix = missing_variable_fix(snap, function, lines) or read_errors(function.name)
        shows = SHOWS.get(function.kind)
        if shows is None:
            yield warn(function.arn, detail, evidence=lines[:5], fix=fix)
        else:
            explains = (WAVE_STATUS_STALE, EXECUTION_STUCK) if shows == POLLER_FAILING else (EXECUTION_STUCK,)
            yield fail(function.arn, detail, evidence=lines[:5], shows=shows, explains=explains, fix=fix)


def _tasks_failed(snap: Snapshot) -> bool | None:
    """Whether a Task state of this execution failed (None: its history was not read whole)."""
    if snap.history is None or not snap.history.events:
        return None
    if any(event.type in FAILURE_EVENTS for event in snap.history.events):
        return True
    return None if not snap.history.complete else False


def _another_run(line: str, execution_arn: str) -> bool:
    """The line names an execution, and not this one."""
    named = EXECUTION_ARN.findall(line)
    return bool(named) and execution_arn not in named


def _any(lines: list[str], needles: tuple[str, ...]) -> bool:
    return any(needle in line for line in lines for needle in needles)
