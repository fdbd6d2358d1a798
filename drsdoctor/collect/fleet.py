"""The executions of one state machine that an operator selects (`diagnose --state-machine ARN --running`):
listed, then collected with what they all share (the machine, its stack, functions, rules, tables, roles
and their decisions) gathered once. They are collected in groups: each group's DRS jobs, source servers and
recovery instances are read together, one call of each for the group, and each execution is judged as soon
as its group is read, so no execution's history outlives its group's verdicts."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from drsdoctor.aws import AwsSession
from drsdoctor.aws.failures import AwsFailure
from drsdoctor.collect import drs, stepfunctions
from drsdoctor.collect.gather import Gatherer, Memo
from drsdoctor.collect.run import DEFAULT_HISTORY_LIMIT, Collection, begin
from drsdoctor.collect.target import MachineTarget
from drsdoctor.errors import DrsdoctorError
from drsdoctor.snapshot import Snapshot
from drsdoctor.topology.orchestrator_map import OrchestratorMap

R = TypeVar("R")
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
LIST_PAGE = 1000  # ListExecutions' largest page
MAX_PAGES = 20
# Executions collected at once, each with this many threads of its own: bounded, so fifty executions
# neither open hundreds of connections nor starve one another of the interpreter.
CONCURRENCY = 8
WORKERS = 4
# Executions whose DRS facts are read together: three DRS calls a group instead of three an execution (a
# group's histories wait for its verdicts). Two groups at once: one's DRS reads overlap another's collection.
GROUP = 10
GROUPS_AT_ONCE = 2
POOL_CONNECTIONS = 128  # per client; past it urllib3 opens and throws away connections, with a warning


@dataclass(frozen=True)
class Selection:
    """Which of the machine's executions to diagnose: by status today; a time window can join it."""

    status: str = "RUNNING"

    def words(self) -> str:
        return self.status.lower().replace("_", " ")


@dataclass(frozen=True)
class Listed:
    """An execution as ListExecutions names it."""

    arn: str
    name: str
    status: str
    start_date: datetime | None = None


@dataclass
class Listing:
    machine: MachineTarget
    selection: Selection
    executions: list[Listed] = field(default_factory=list)
    more: bool = False  # stopped after MAX_PAGES pages: more executions match than were listed


class MachineNotFound(DrsdoctorError):
    """The ARN is well formed but no such state machine exists where we looked: exit 3, one line."""

    def __init__(self, machine: MachineTarget, failure: AwsFailure) -> None:
        super().__init__(f"state machine {machine.arn} does not exist in {machine.region} (account "
                         f"{machine.account}): {failure.code}; check the ARN, --profile and --endpoint-url")


def list_executions(session: AwsSession, machine: MachineTarget, selection: Selection, shared: Memo,
                    max_pages: int = MAX_PAGES) -> Listing:
    """The machine's executions in the selection, newest first. Raises InputError for an EXPRESS machine,
    MachineNotFound for an unknown one, AwsFailure (exit 3) when they cannot be listed."""
    snap = Snapshot(target=machine.arn, region=machine.region, account=machine.account)
    gather = Gatherer(session, snap, machine.region, shared=shared)
    stepfunctions.state_machine(gather, machine.arn)  # an EXPRESS machine fails here; the answer is shared
    listing = Listing(machine, selection)
    try:
        for page in gather.pages("stepfunctions", "list_executions", machine.arn, "nextToken", "nextToken",
                                 max_pages=max_pages, stateMachineArn=machine.arn,
                                 statusFilter=selection.status, maxResults=LIST_PAGE):
            listing.executions.extend(
                Listed(arn=item["executionArn"], name=item.get("name", ""), status=item.get("status", ""),
                       start_date=item.get("startDate"))
                for item in page.get("executions", []))
            listing.more = bool(page.get("nextToken"))
    except AwsFailure as failure:
        if failure.kind == "not_found":
            raise MachineNotFound(machine, failure) from None
        raise
    return listing


def collect_each(listed: list[Listed], session: AwsSession, shared: Memo, judge: Callable[[Snapshot], R],
                 unreadable: Callable[[Listed, DrsdoctorError], R], *,
                 history_limit: int = DEFAULT_HISTORY_LIMIT, now: datetime | None = None,
                 concurrency: int = CONCURRENCY, workers: int = WORKERS,
                 orchestrator_map: OrchestratorMap | None = None) -> list[R]:
    """Collect each execution and hand its Snapshot to `judge`; only what `judge` returns is kept. Answers in
    the listed order. An execution that cannot be collected (gone since it was listed) is `unreadable`'s
    answer; no credentials or no endpoint ends the run (AwsUnavailable)."""

    # The functions' recent errors since the oldest selected execution began: one log read for them all.
    starts = [item.start_date for item in listed if item.start_date is not None]
    logs_since = min(starts) if starts else None

    def begun(item: Listed) -> Collection | R:
        try:
            return begin(item.arn, session, history_limit=history_limit, now=now, workers=workers,
                         shared=shared, logs_since=logs_since, orchestrator_map=orchestrator_map)
        except DrsdoctorError as error:
            if isinstance(error, AwsFailure) and error.fatal:
                raise
            return unreadable(item, error)

    def group(items: list[Listed]) -> list[R]:
        with ThreadPoolExecutor(max_workers=max(1, concurrency // GROUPS_AT_ONCE)) as pool:
            started = list(pool.map(begun, items))
            collections = [item for item in started if isinstance(item, Collection)]
            # the roles' decisions (shared by most of the group) while DRS answers, as collect() does
            roles = pool.map(Collection.read_roles, collections)
            read_drs_together(collections, concurrency // GROUPS_AT_ONCE)
            list(roles)
        return [judge(item.finish()) if isinstance(item, Collection) else item for item in started]

    if not listed:
        return []
    groups = [listed[start:start + GROUP] for start in range(0, len(listed), GROUP)]
    with ThreadPoolExecutor(max_workers=min(GROUPS_AT_ONCE, len(groups))) as pipeline:
        answers = list(pipeline.map(group, groups))
    return [answer for part in answers for answer in part]


def read_drs_together(collections: list[Collection], concurrency: int) -> None:
    """The DRS jobs of every collection, then their servers, recovery instances and log items, one read
    of each kind for them all (drs.Together); each records its own fact errors."""
    if not collections:
        return
    together = drs.Together()
    for item in collections:
        together.want("jobs", item.drs_region, item.job_ids)
        since = item.jobs_since()
        together.want("jobs since", item.drs_region, [drs.stamp(since)] if since else [])
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(lambda item: item.read_jobs(together), collections))
        for item in collections:
            servers = item.servers()
            together.want("servers", item.drs_region, servers)
            together.want("instances", item.drs_region, servers)
        list(pool.map(lambda item: item.read_servers_and_logs(together), collections))
