"""`drsdoctor diagnose --state-machine ARN --running`: every selected execution of one state machine,
diagnosed in parallel with the facts they share gathered once; one table, a row each."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drsdoctor.commands.options import echo_call_log, emit
from drsdoctor.errors import DrsdoctorError, InputError

if TYPE_CHECKING:
    from drsdoctor.aws import AwsSession
    from drsdoctor.checkapi import CheckSpec
    from drsdoctor.collect.fleet import Listed, Selection
    from drsdoctor.report.fleet import Fleet, FleetRow
    from drsdoctor.snapshot import Snapshot
    from drsdoctor.topology.orchestrator_map import OrchestratorMap


def diagnose_fleet(machine_arn: str, status: str, *, region: str | None, profile: str | None,
                   endpoint_url: str | None, verbose: int, output_format: str, output_path: str | None,
                   only: tuple[str, ...], skip: tuple[str, ...], checks_dirs: tuple[str, ...],
                   history_limit: int, budget: float | None,
                   orchestrator_map: OrchestratorMap | None = None,
                   accounts: dict[str, Any] | None = None) -> int:
    """The command's work after its options are checked; returns the exit code."""
    from drsdoctor.report.fleet import FORMATS

    if output_format not in FORMATS:
        raise InputError(f"--format {output_format} describes one execution; with --state-machine choose "
                         f"{', '.join(FORMATS)}")
    from drsdoctor.aws import AwsSettings
    from drsdoctor.collect.fleet import POOL_CONNECTIONS, Selection
    from drsdoctor.collect.target import parse_state_machine_arn
    from drsdoctor.commands.diagnose import _progress, budgeted_session

    machine = parse_state_machine_arn(machine_arn)  # a bad ARN fails here, before any AWS call
    session = budgeted_session(AwsSettings(region=machine.region or region, profile=profile,
                                           endpoint_url=endpoint_url, max_pool_connections=POOL_CONNECTIONS,
                                           **(accounts or {})),  # --assume-role, --account-profile
                               budget)
    try:
        with _progress() as say:
            fleet = diagnose_machine(machine.arn, session, Selection(status), only=only, skip=skip,
                                     checks_dirs=checks_dirs, history_limit=history_limit, progress=say,
                                     orchestrator_map=orchestrator_map)
    finally:
        if verbose:  # the calls of the whole run, once, even when it could not complete
            echo_call_log(session.call_log)
    from drsdoctor.report.fleet import render

    emit(render(fleet, output_format), output_path)
    return fleet.exit_code


def diagnose_machine(machine_arn: str, session: AwsSession, selection: Selection | None = None, *,
                     only: tuple[str, ...] = (), skip: tuple[str, ...] = (),
                     checks_dirs: tuple[str, ...] = (), history_limit: int = 1000,
                     progress: Callable[[str], None] | None = None,
                     orchestrator_map: OrchestratorMap | None = None) -> Fleet:
    """List the machine's selected executions and diagnose each; for callers inside the process too."""
    from drsdoctor.collect.clock import now_of
    from drsdoctor.collect.fleet import Selection, collect_each, list_executions
    from drsdoctor.collect.gather import Memo
    from drsdoctor.collect.target import parse_state_machine_arn
    from drsdoctor.engine import load_checks, select
    from drsdoctor.report.fleet import Fleet

    selection = selection or Selection()
    machine = parse_state_machine_arn(machine_arn)
    loaded = load_checks(checks_dirs)
    chosen = select(loaded.checks, only, skip)  # an unknown check id fails before any AWS call
    shared = Memo()
    listing = list_executions(session, machine, selection, shared)
    now = now_of(session)  # after the listing: a sandbox has stamped its simulated time on the answers
    fleet = Fleet(machine.arn, selection.words(), now, notes=list(loaded.problems), more=listing.more)
    if listing.more:
        fleet.notes.append(f"more executions are {selection.words()} than the {len(listing.executions)} "
                           "newest diagnosed here")
    total, done = len(listing.executions), [0]
    say = progress or (lambda _message: None)
    say(f"diagnosing {total} {selection.words()} executions")

    def judge(snap: Snapshot) -> FleetRow:
        row = _row(snap, chosen)
        done[0] += 1  # one thread at a time is close enough for a progress line
        say(f"diagnosed {done[0]} of {total} executions")
        return row

    fleet.rows = collect_each(listing.executions, session, shared, judge, _unreadable,
                              history_limit=history_limit, now=now,
                              orchestrator_map=orchestrator_map)
    return fleet


def _row(snap: Snapshot, chosen: list[CheckSpec]) -> FleetRow:
    from drsdoctor.commands.diagnose import note_budget
    from drsdoctor.engine import diagnose
    from drsdoctor.report.fleet import FleetRow

    missing = note_budget(snap)
    return FleetRow.of(snap, diagnose(snap, checks=chosen), missing)


def _unreadable(item: Listed, error: DrsdoctorError) -> FleetRow:
    from drsdoctor.report.fleet import FleetRow

    return FleetRow(arn=item.arn, name=item.name, status=item.status, started=item.start_date,
                    error=str(error))
