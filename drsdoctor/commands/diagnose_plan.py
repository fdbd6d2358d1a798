"""`drsdoctor diagnose RECOVERY_PLAN_EXECUTION_ARN` and `diagnose --recovery-plan ARN --running`: DRS's own
recovery plans, diagnosed with the checks that read a plan execution (checks/recovery_plan*.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from drsdoctor.commands.options import echo_call_log, emit
from drsdoctor.errors import DrsdoctorError, InputError

if TYPE_CHECKING:
    from drsdoctor.aws import AwsSession
    from drsdoctor.checkapi import CheckSpec
    from drsdoctor.engine import Report
    from drsdoctor.report.fleet import Fleet, FleetRow
    from drsdoctor.snapshot import Snapshot

PLAN_FACT = "recovery_plan"


def plan_checks(checks: list[CheckSpec]) -> list[CheckSpec]:
    """The checks that judge a recovery plan execution: those that read it."""
    return [spec for spec in checks if PLAN_FACT in spec.reads]


def report_of(
    snap: Snapshot, only: tuple[str, ...] = (), skip: tuple[str, ...] = (), checks_dirs: tuple[str, ...] = ()
) -> Report:
    """The engine's report: it judges a recovery plan execution with the checks that read one."""
    from drsdoctor.engine import diagnose

    return diagnose(snap, only=only, skip=skip, checks_dirs=checks_dirs)


def diagnose_plan_execution(
    arn: str, session: AwsSession, plan_role: str | None = None, progress: Callable[[str], None] | None = None
) -> tuple[Snapshot, Report]:
    """Collect and check one recovery plan execution, as `drsdoctor diagnose ARN` does (demo calls it)."""
    from drsdoctor.collect.plans import collect_plan

    snap = collect_plan(arn, session, plan_role=plan_role, progress=progress)
    return snap, report_of(snap)


def diagnose_plan(
    arn: str,
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    verbose: int,
    plan_role: str | None,
    budget: float | None,
) -> Snapshot:
    """The command's collection for one execution ARN (a bad ARN fails before any AWS call)."""
    from drsdoctor.aws import AwsSettings
    from drsdoctor.collect.plans import collect_plan, parse_drs_arn
    from drsdoctor.commands.diagnose import _progress, budgeted_session

    target = parse_drs_arn(arn)
    session = budgeted_session(
        AwsSettings(region=target.region or region, profile=profile, endpoint_url=endpoint_url), budget
    )
    try:
        with _progress() as say:
            return collect_plan(target.arn, session, plan_role=plan_role, progress=say)
    finally:
        if verbose:
            echo_call_log(session.call_log)


def diagnose_running(
    plan_arn: str,
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    verbose: int,
    output_format: str,
    output_path: str | None,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    checks_dirs: tuple[str, ...],
    plan_role: str | None,
    budget: float | None,
) -> int:
    """Every non-terminal execution of the plan (one at most, by DRS's rule; CANCELLING included): one
    table."""
    from drsdoctor.report.fleet import FORMATS

    if output_format not in FORMATS:
        raise InputError(
            f"--format {output_format} describes one execution; with --recovery-plan choose "
            f"{', '.join(FORMATS)}"
        )
    from drsdoctor.aws import AwsSettings
    from drsdoctor.collect.plans import parse_drs_arn
    from drsdoctor.commands.diagnose import _progress, budgeted_session

    plan = parse_drs_arn(plan_arn, "recovery-plan")
    session = budgeted_session(
        AwsSettings(region=plan.region or region, profile=profile, endpoint_url=endpoint_url), budget
    )
    try:
        with _progress() as say:
            fleet = running_executions(
                plan.arn,
                session,
                plan_role=plan_role,
                only=only,
                skip=skip,
                checks_dirs=checks_dirs,
                progress=say,
            )
    finally:
        if verbose:
            echo_call_log(session.call_log)
    from drsdoctor.report.fleet import render

    emit(render(fleet, output_format), output_path)
    return fleet.exit_code


def running_executions(
    plan_arn: str,
    session: AwsSession,
    *,
    plan_role: str | None = None,
    only: tuple[str, ...] = (),
    skip: tuple[str, ...] = (),
    checks_dirs: tuple[str, ...] = (),
    progress: Callable[[str], None] | None = None,
) -> Fleet:
    from drsdoctor.aws.failures import AwsFailure
    from drsdoctor.collect.clock import now_of
    from drsdoctor.collect.plans import PAGE, collect_plan
    from drsdoctor.engine import load_checks, select
    from drsdoctor.planfacts import NON_TERMINAL
    from drsdoctor.report.fleet import Fleet, FleetRow

    loaded = load_checks(checks_dirs)
    chosen = select(plan_checks(loaded.checks), only, skip)  # an unknown check id fails before any call
    region = plan_arn.split(":")[3]
    client = session.client("drs", region)
    listed = []
    try:
        for status in NON_TERMINAL:
            page = client.list_recovery_plan_executions(
                recoveryPlanArn=plan_arn, status=status, maxResults=PAGE
            )
            listed += page["recoveryPlanExecutions"]
    except AwsFailure:
        raise
    except Exception as error:
        from drsdoctor.aws.failures import failure_from

        raise failure_from(error, "drs", "ListRecoveryPlanExecutions", plan_arn, "drs") from None
    fleet = Fleet(plan_arn, "running", now_of(session), notes=list(loaded.problems))
    for item in listed:
        arn = item["recoveryPlanExecutionArn"]
        say = progress or (lambda _message: None)
        say(f"diagnosing {arn}")
        try:
            snap = collect_plan(arn, session, plan_role=plan_role, now=now_of(session))
        except DrsdoctorError as error:
            fleet.rows.append(
                FleetRow(arn=arn, name=arn.rsplit("/", 1)[-1], status=item["status"], error=str(error))
            )
            continue
        fleet.rows.append(_row(snap, chosen))
    return fleet


def _row(snap: Snapshot, chosen: list[CheckSpec]) -> FleetRow:
    from drsdoctor.engine import diagnose
    from drsdoctor.report.fleet import FleetRow

    run = snap.recovery_plan
    assert run is not None
    current = next((s for s in run.steps if s.status not in ("COMPLETED", "SKIPPED")), None)
    where = f"{current.index}/{len(run.steps)} {current.status}" if current else None
    return FleetRow(
        arn=run.arn,
        name=run.arn.rsplit("/", 1)[-1],
        status=run.status,
        started=run.started_at,
        state=current.name if current else None,
        wave=where,
        report=diagnose(snap, checks=chosen),
    )
