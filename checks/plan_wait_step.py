"""PLN004: no wait step of the recovery plan has waited far past its minutes.

A wait step ends by itself when its minutes are up; one still WAITING long after (twice its minutes, and at
least ten) will not end: the plan is stuck behind it. Cancel the execution and start the plan again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from drsdoctor.checkapi import CAUSE, EXECUTION_STUCK, HIGH, Finding, check, error, fail, now_of, passed, skip
from drsdoctor.snapshot import Snapshot

GRACE = timedelta(minutes=10)


@check(
    id="PLN004",
    service="drs",
    severity=HIGH,
    layer=CAUSE,
    title="No wait step of the recovery plan waits past its minutes",
    remediation="aws drs cancel-recovery-plan-execution --recovery-plan-execution-arn {execution} && "
    "aws drs start-recovery-plan-execution --recovery-plan-arn {plan} --mode {mode}",
    reads=("recovery_plan",),
)
def plan_wait_step(snap: Snapshot) -> Iterator[Finding]:
    run = snap.recovery_plan
    if run is None:
        return
    waiting = [step for step in run.steps if step.is_wait and step.status == "WAITING"]
    if not waiting:
        yield skip(run.arn, "no wait step is waiting")
        return
    now = now_of(snap)
    for step in waiting:
        minutes = step.wait_minutes or 0
        if step.updated_at is None:
            yield error(
                step.arn,
                f"wait step {step.index} ({step.name}): when it began waiting was not read "
                "(GetRecoveryPlanExecutionStep)",
            )
            continue
        waited = now - step.updated_at
        allowed = max(timedelta(minutes=2 * minutes), timedelta(minutes=minutes) + GRACE)
        if waited <= allowed:
            yield passed(
                step.arn,
                f"wait step {step.index} ({step.name}) has waited "
                f"{waited.total_seconds() / 60:.0f} of its {minutes} minutes",
            )
            continue
        yield fail(
            step.arn,
            f"wait step {step.index} ({step.name}) has been WAITING "
            f"{waited.total_seconds() / 60:.0f} minutes, for a {minutes}-minute wait: it will not "
            "end, and every later step waits behind it",
            evidence=[f"WAITING since {step.updated_at.isoformat()}", f"now {now.isoformat()}"],
            shows=EXECUTION_STUCK,
            explains=EXECUTION_STUCK,
            fix={"execution": run.arn, "plan": run.plan_arn, "mode": run.mode or "DRILL"},
        )
