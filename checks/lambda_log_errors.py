"""LMB004: the functions' recent logs have no errors (what keeps the poller from reading its job)."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import function_label
from drsdoctor.checks._fixes import missing_variable_fix, read_errors

from drsdoctor.checkapi import (
    EXECUTION_STUCK,
    HIGH,
    MECHANISM,
    POLLER_FAILING,
    TASK_FAILING,
    WAVE_STATUS_STALE,
    Finding,
    check,
    fail,
    passed,
    skip,
    warn,
)
from drsdoctor.snapshot import Snapshot

SHOWS = {"finder": POLLER_FAILING, "poller": POLLER_FAILING, "orchestration": TASK_FAILING}
_DENIED = ("AccessDenied", "not authorized", "UnauthorizedOperation")
_MISSING = ("ResourceNotFoundException", "Requested resource not found", "does not exist")


@check(id="LMB004", service="lambda", severity=HIGH, layer=MECHANISM, plan_step="eventbridge",
       title="The functions' recent logs show no errors",
       remediation="Read the errors of {function} in its log group /aws/lambda/{function}",
       reads=("functions",))
def log_errors(snap: Snapshot) -> Iterator[Finding]:
    if not snap.functions:
        yield skip(snap.target, "no functions were found")
        return
    for function in snap.functions:
        if not function.recent_errors:
            yield passed(function.arn, f"no errors in the recent logs of {function.name}")
            continue
        lines = function.recent_errors
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


def _any(lines: list[str], needles: tuple[str, ...]) -> bool:
    return any(needle in line for line in lines for needle in needles)
