"""PLN001: no step of the recovery plan execution FAILED or TIMED_OUT (each with its errorDetail).

What the console shows, in the operator's words: which step stopped the plan, DRS's code and message, the
attempt, and how to run it again once its cause is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checkapi import EXECUTION_FAILED, HIGH, SYMPTOM, Finding, check, fail, passed, skip
from drsdoctor.snapshot import Snapshot


@check(
    id="PLN001",
    service="drs",
    severity=HIGH,
    layer=SYMPTOM,
    title="No step of the recovery plan execution failed or timed out",
    remediation="Fix the cause below, then run the step again: aws drs retry-recovery-plan-execution-step "
    "--recovery-plan-execution-step-arn {step}",
    reads=("recovery_plan",),
)
def plan_step_failed(snap: Snapshot) -> Iterator[Finding]:
    run = snap.recovery_plan
    if run is None:
        return
    stopped = [step for step in run.steps if step.status in ("FAILED", "TIMED_OUT")]
    if not run.steps:
        yield skip(run.arn, "DRS listed no steps for this execution")
        return
    if not stopped:
        where = f"{sum(step.status == 'COMPLETED' for step in run.steps)} of {len(run.steps)} steps completed"
        yield passed(run.arn, f"execution {run.status}: no step failed or timed out; {where}")
        return
    for step in stopped:
        attempt = f", attempt {step.attempt}" if step.attempt else ""
        error = f"{step.error_code}: {step.error_message}" if step.error_code else "no errorDetail given"
        evidence = [
            f"execution {run.status} ({run.mode}){': ' + run.error_code if run.error_code else ''}"
            f"{' ' + run.error_message if run.error_message else ''}",
            *[
                f"{server.source_server_id} {server.impact} job {server.job_id or '-'}"
                for server in step.servers
            ],
        ]
        yield fail(
            step.arn,
            f"step {step.index} ({step.name}) {step.status}{attempt}: {error[:300]}",
            evidence=evidence,
            shows=EXECUTION_FAILED,
            fix={"step": step.arn},
        )
