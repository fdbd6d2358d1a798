"""`drsdoctor diagnose EXECUTION_ARN`: collect the facts, run the checks, name the root cause."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from drsdoctor.commands import complete
from drsdoctor.commands.account_options import account_options, account_settings
from drsdoctor.commands.options import (
    FORMATS,
    Seconds,
    aws_options,
    common_options,
    echo_call_log,
    emit,
    long_option,
    output_options,
)
from drsdoctor.errors import InputError

if TYPE_CHECKING:
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.engine import Report
    from drsdoctor.snapshot import Snapshot
    from drsdoctor.topology.orchestrator_map import OrchestratorMap


@click.command("diagnose", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor diagnose arn:aws:states:us-east-1:123456789012:execution:drs-recovery:run-42\n"
    "  drsdoctor diagnose --from-bundle facts.json --format markdown --output incident.md"
))
@click.argument("execution_arn", required=False)
@aws_options
@common_options
@output_options(*FORMATS)
@long_option
@click.option("--check", "only", multiple=True, metavar="ID", help="Run only this check (repeatable).",
              shell_complete=complete.check_ids)
@click.option("--skip", multiple=True, metavar="ID", help="Do not run this check (repeatable).",
              shell_complete=complete.check_ids)
@click.option("--checks-dir", "checks_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Also load the checks in this folder (repeatable). This runs the folder's Python with "
              "your credentials: only code you trust.")
@click.option("--save-bundle", type=click.Path(dir_okay=False),
              help="Save the collected facts (secrets redacted) to re-check offline later.")
@click.option("--from-bundle", type=click.Path(dir_okay=False),
              help="Check a saved bundle instead of calling AWS (no AWS access at all).")
@click.option("--history-limit", type=click.IntRange(min=10, max=25000), default=1000, show_default=True,
              help="Read at most this many of the execution's newest history events.")
@click.option("--timeout", "budget", type=Seconds(), default=None,
              metavar="SECONDS",
              help="Stop collecting after this long: print the partial report, name the facts not collected, "
              "exit 3.")
@click.option("--state-machine", "machine_arn", metavar="ARN",
              help="Diagnose the executions of this state machine (chosen with --running): one row each.")
@click.option("--running", "status", flag_value="RUNNING",
              help="With --state-machine: every RUNNING execution, in parallel.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="An orchestrator map (`discover --format yaml`, corrected): what discovery missed.")
@click.option("--write-fixes", "fixes_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write the files the fix commands read (a known-good state machine definition) into DIR; "
              "the printed commands then read them there. Nothing is run.")
@click.option("--recovery-plan", "plan_arn", metavar="ARN",
              help="Diagnose the executions of this DRS recovery plan (chosen with --running): one row each.")
@click.option("--plan-role", metavar="ARN",
              help="For a DRS recovery plan: the role that starts its executions (DRS launches each step's "
              "job with its permissions), when no errorDetail names it.")
@account_options
def diagnose(execution_arn: str | None, region: str | None, profile: str | None, endpoint_url: str | None,
             verbose: int, output_format: str, output_path: str | None, long_: bool, only: tuple[str, ...],
             skip: tuple[str, ...], checks_dirs: tuple[str, ...], save_bundle: str | None,
             from_bundle: str | None, history_limit: int, budget: float | None, machine_arn: str | None,
             status: str | None, map_path: str | None, fixes_dir: str | None = None,
             plan_arn: str | None = None, plan_role: str | None = None,
             assume_roles: tuple[str, ...] = (), account_profiles: tuple[str, ...] = ()) -> None:
    """Name the root cause of a stuck or failed recovery execution (a Step Functions execution, or a DRS
    recovery plan execution); or, with --state-machine ARN --running (or --recovery-plan ARN --running), of
    every running execution of that state machine (or plan): one table, a row each.

    Exit codes: 0 healthy, 1 problems found, 2 bad input (a malformed ARN, another service's ARN,
    an EXPRESS machine), 3 could not complete (unknown execution, no credentials, unreachable,
    the --timeout budget ran out: the partial report is still printed). Over many executions: 1 if
    any has problems, else 3 if any could not be diagnosed, else 0 (also when none is running).
    """
    if plan_arn:  # DRS's own recovery plans (commands/diagnose_plan.py)
        from drsdoctor.commands.diagnose_plan import diagnose_running

        if execution_arn or from_bundle or save_bundle or machine_arn or not status:
            raise InputError("--recovery-plan ARN goes with --running alone (no EXECUTION_ARN, "
                             "--state-machine, --from-bundle or --save-bundle)")
        sys.exit(diagnose_running(plan_arn, region=region, profile=profile, endpoint_url=endpoint_url,
                                  verbose=verbose, output_format=output_format, output_path=output_path,
                                  only=only, skip=skip, checks_dirs=checks_dirs, plan_role=plan_role,
                                  budget=budget))
    orchestrator_map = None
    if map_path:
        from drsdoctor.topology.orchestrator_map import load

        orchestrator_map = load(map_path)
    if machine_arn or status:
        from drsdoctor.commands.diagnose_fleet import diagnose_fleet

        if execution_arn or from_bundle or save_bundle or fixes_dir:
            raise InputError("--state-machine diagnoses many executions: give it without an EXECUTION_ARN, "
                             "--from-bundle, --save-bundle or --write-fixes")
        if not machine_arn or not status:
            raise InputError("--running goes with --state-machine ARN" if status else
                             "say which executions of the state machine to diagnose: --running")
        code = diagnose_fleet(machine_arn, status, region=region, profile=profile, endpoint_url=endpoint_url,
                              verbose=verbose, output_format=output_format, output_path=output_path,
                              only=only, skip=skip, checks_dirs=checks_dirs, history_limit=history_limit,
                              budget=budget, orchestrator_map=orchestrator_map,
                              accounts=account_settings(assume_roles, account_profiles))
        sys.exit(code)
    if from_bundle:
        snap = _from_bundle(from_bundle, execution_arn)
        _finish(snap, output_format, output_path, only, skip, checks_dirs, save_bundle, fixes_dir,
                long_ or bool(verbose))
    if not execution_arn:
        raise InputError("give an EXECUTION_ARN, or --from-bundle FILE")
    from drsdoctor.collect.plans import is_drs_arn

    if is_drs_arn(execution_arn):  # a DRS recovery plan execution
        from drsdoctor.commands.diagnose_plan import diagnose_plan

        snap = diagnose_plan(execution_arn, region=region, profile=profile, endpoint_url=endpoint_url,
                             verbose=verbose, plan_role=plan_role, budget=budget)
        _finish(snap, output_format, output_path, only, skip, checks_dirs, save_bundle, fixes_dir,
                long_ or bool(verbose))
    from drsdoctor.aws import AwsSettings
    from drsdoctor.collect import parse_execution_arn

    target = parse_execution_arn(execution_arn)  # a bad ARN fails here, before any AWS call
    session = budgeted_session(AwsSettings(region=target.region or region, profile=profile,
                                           endpoint_url=endpoint_url,
                                           **account_settings(assume_roles, account_profiles)), budget)
    try:
        with _progress() as say:
            snap = collect_snapshot(target.arn, session, history_limit=history_limit, progress=say,
                                    orchestrator_map=orchestrator_map)
    finally:
        if verbose:  # the calls made so far, even when the run could not complete
            echo_call_log(session.call_log)
    if verbose:
        click.echo("How this orchestrator works:", err=True)
        for line in snap.topology.describe():
            click.echo(f"  {line}", err=True)
    _finish(snap, output_format, output_path, only, skip, checks_dirs, save_bundle, fixes_dir,
            long_ or bool(verbose))


def _finish(snap: Snapshot, output_format: str, output_path: str | None, only: tuple[str, ...],
            skip: tuple[str, ...], checks_dirs: tuple[str, ...], save_bundle: str | None,
            fixes_dir: str | None = None, long: bool = False) -> NoReturn:
    if save_bundle:
        from drsdoctor.collect.bundle import save_bundle as save

        save(snap, save_bundle)
    missing = note_budget(snap)
    report = _report(snap, only, skip, checks_dirs)
    if fixes_dir:
        write_fixes(report, fixes_dir)
    from drsdoctor import exitcodes
    from drsdoctor.report import render

    emit(render(report, output_format, long=long), output_path)
    code = exitcodes.INCOMPLETE if missing else report.exit_code
    if code == exitcodes.OK and any(not reach.reached for reach in snap.accounts):
        code = exitcodes.INCOMPLETE  # DRS's account was out of reach: "healthy" would be a verdict on nothing
    sys.exit(code)


def write_fixes(report: Report, folder: str) -> None:
    """Write the files the failing findings' fix commands read into ``folder``, and point the commands there.
    The findings are changed in place: the root cause and its chain are the same objects."""
    for finding in report.findings:
        if finding.remedy is None or not finding.failing:
            continue
        try:
            finding.remedy = finding.remedy.write(folder)
        except OSError as bad:
            raise InputError(f"--write-fixes {folder}: cannot write the fix files there: "
                             f"{bad.strerror or bad}") from None
        finding.remediation = finding.remedy.line


def budgeted_session(settings: AwsSettings, budget: float | None) -> AwsSession:
    """A session whose every attempt fits in `--timeout`, its clock started now."""
    from drsdoctor.aws import AwsSession

    session = AwsSession(settings.within(budget))
    if budget is not None:
        session.start_budget(budget)
    return session


def note_budget(snap: Snapshot) -> list[str]:
    """The facts the --timeout budget kept from `snap`, each marked missing and named in a note."""
    from drsdoctor.collect.gather import budget_ran_out, mark_not_collected

    mark_not_collected(snap)
    missing = budget_ran_out(snap)
    if missing:
        snap.notes.append("the --timeout budget ran out before these facts were collected: "
                          + ", ".join(missing))
    return missing


def _from_bundle(path: str, execution_arn: str | None) -> Snapshot:
    from drsdoctor.snapshot import Snapshot

    snap = Snapshot.load(path)
    if execution_arn and execution_arn.strip() != snap.target:
        raise InputError(f"bundle {path} is about {snap.target}, not {execution_arn}")
    return snap


def collect_snapshot(execution_arn: str, session: AwsSession, history_limit: int = 1000,
                     progress: Callable[[str], None] | None = None,
                     orchestrator_map: OrchestratorMap | None = None) -> Snapshot:
    """The facts, with "now" taken from the endpoint's answers when it is a sandbox (for `demo` too)."""
    from drsdoctor.collect import collect

    return collect(execution_arn, session, history_limit=history_limit, progress=progress,
                   orchestrator_map=orchestrator_map)


def diagnose_execution(execution_arn: str, session: AwsSession, only: tuple[str, ...] = (),
                       skip: tuple[str, ...] = (),
                       checks_dirs: tuple[str, ...] = ()) -> tuple[Snapshot, Report]:
    """Collect and check in one call, as `drsdoctor diagnose` does: for callers inside the process."""
    snap = collect_snapshot(execution_arn, session)
    return snap, _report(snap, only, skip, checks_dirs)


def _report(snap: Snapshot, only: tuple[str, ...], skip: tuple[str, ...],
            checks_dirs: tuple[str, ...]) -> Report:
    from drsdoctor.engine import diagnose as run

    return run(snap, only=only, skip=skip, checks_dirs=checks_dirs)


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    """A spinner on stderr while collecting, only when stderr is a terminal."""
    from rich.console import Console

    from drsdoctor.report.terminal import color_wanted

    console = Console(stderr=True)
    if not console.is_terminal or not color_wanted(sys.stderr):  # NO_COLOR: no spinner's escape codes
        yield lambda _message: None
        return
    with console.status("collecting facts") as status:
        yield lambda message: status.update(message)
