"""PLN005: no other execution of the recovery plan is in progress.

A plan has at most one execution in a non-terminal status (CREATED, IN_PROGRESS, CANCELLING): while another
one runs, retrying this one's step or starting the plan again answers ConflictException.
"""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checkapi import MECHANISM, MEDIUM, Finding, check, passed, skip, warn
from drsdoctor.planfacts import NON_TERMINAL
from drsdoctor.snapshot import Snapshot


@check(
    id="PLN005",
    service="drs",
    severity=MEDIUM,
    layer=MECHANISM,
    title="No other execution of the recovery plan is in progress",
    remediation="Wait for it to end, or cancel it: aws drs cancel-recovery-plan-execution "
    "--recovery-plan-execution-arn {other}",
    reads=("recovery_plan", "plan_executions"),
)
def plan_other_execution(snap: Snapshot) -> Iterator[Finding]:
    run = snap.recovery_plan
    if run is None:
        return
    if not snap.plan_executions:  # the listing names this execution too: empty is not an answer
        yield skip(run.plan_arn, "the plan's executions were not listed")
        return
    others = [ex for ex in snap.plan_executions if ex.arn != run.arn and ex.status in NON_TERMINAL]
    if not others:
        yield passed(
            run.plan_arn,
            f"no other of the plan's {len(snap.plan_executions)} executions listed is in progress",
        )
        return
    for other in others:
        since = f" since {other.started_at.isoformat()}" if other.started_at else ""
        yield warn(
            other.arn,
            f"another execution of the plan is {other.status} ({other.mode}){since}: until "
            "it ends, retrying a step of this one or starting the plan again answers "
            "ConflictException",
            evidence=[f"this execution: {run.status}"],
            fix={"other": other.arn},
        )
