"""LMB002: each function is Active and its last update Successful (a failed deploy leaves it unusable)."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DOWN, function_label

from drsdoctor.checkapi import CAUSE, HIGH, Finding, check, fail, passed, skip, warn
from drsdoctor.snapshot import Snapshot


@check(id="LMB002", service="lambda", severity=HIGH, layer=CAUSE,
       title="Each function is Active and its last update Successful",
       remediation="Redeploy {function} (its state is {state}: {reason})",
       reads=("functions",))
def function_state(snap: Snapshot) -> Iterator[Finding]:
    if not snap.functions:
        yield skip(snap.target, "no functions were found")
        return
    for function in snap.functions:
        label, breaks = function_label(function), BREAKS_WHEN_DOWN.get(function.kind, ())
        status = f"{function.state}, last update {function.last_update_status}"
        if function.state in ("Failed", "Inactive") or function.last_update_status == "Failed":
            reason = function.state_reason or function.last_update_reason or "no reason given"
            yield fail(function.arn, f"{label} is {status}: {reason}", explains=breaks,
                       fix={"function": function.name, "state": function.state, "reason": reason})
        elif function.state != "Active" or function.last_update_status != "Successful":
            yield warn(function.arn, f"{label} is {status}",
                       fix={"function": function.name, "state": function.state,
                            "reason": function.state_reason or function.last_update_reason or "in progress"})
        else:
            yield passed(function.arn, f"{function.name} is Active, last update Successful")
