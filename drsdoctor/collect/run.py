"""From an execution ARN to a filled Snapshot: the order of the collector's steps and what runs at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

from drsdoctor.aws import AwsSession
from drsdoctor.collect import drs, functions, roles, rules, stack, stepfunctions, tables
from drsdoctor.collect.gather import Gatherer, Memo, Progress, mark_unreached
from drsdoctor.collect.target import parse_execution_arn
from drsdoctor.snapshot import Function, Rule, Snapshot, Table

# Environment variables of the reference orchestrator (drsdoctor.reference's functions read these).
EXECUTION_TABLE = "EXECUTION_TABLE"
POLLER_FUNCTION = "POLLER_FUNCTION"
DRS_REGION = "DRS_REGION"
DEFAULT_HISTORY_LIMIT = 1000


def collect(execution_arn: str, session: AwsSession, *, history_limit: int = DEFAULT_HISTORY_LIMIT,
            progress: Progress | None = None, now: datetime | None = None, workers: int = 12,
            shared: Memo | None = None, logs_since: datetime | None = None) -> Snapshot:
    """Every fact about one execution. Raises InputError for a bad ARN or an EXPRESS machine,
    ExecutionNotFound for an unknown execution, AwsUnavailable with no credentials or no endpoint;
    anything else that fails is a FactError in the Snapshot. `shared`: the answers already gathered for
    another execution of the same state machine (collect/fleet.py), asked for only once; `logs_since`: read
    the functions' recent errors from then rather than from this execution's start, so that the executions
    of one machine share one read of each log group."""
    collection = begin(execution_arn, session, history_limit=history_limit, progress=progress, now=now,
                       workers=workers, shared=shared, logs_since=logs_since)
    collection.gather.in_parallel([collection.read_roles, collection.read_drs])
    return collection.finish()


@dataclass
class Collection:
    """One execution's facts gathered up to its record, and what the rest needs: collect() reads the roles'
    decisions and the DRS jobs at once; `diagnose --running` reads a group of executions' DRS jobs together
    (drs.Together), in two steps."""

    gather: Gatherer
    snap: Snapshot
    drs_region: str
    job_ids: list[str]  # named by the execution record and the history
    wave_servers: list[str]  # the record's waves' servers

    def read_roles(self) -> None:
        """The roles' decisions, on one of the servers and jobs the execution names."""
        roles.gather_decisions(self.gather, self.snap, self.wave_servers[0] if self.wave_servers else None,
                               self.job_ids[0] if self.job_ids else None)

    def read_drs(self) -> None:
        self.read_jobs()
        self.read_servers_and_logs()

    def jobs_since(self) -> datetime | None:
        """With no job id anywhere, the jobs to read are those started since the execution began: an
        orchestrator may have started one and lost its id. A machine with no orchestration function starts
        none (None)."""
        execution = self.snap.execution
        if self.job_ids or execution is None or self.snap.function_of_kind("orchestration") is None:
            return None
        return execution.start_date

    def read_jobs(self, together: drs.Together | None = None) -> None:
        self.snap.drs_jobs = drs.jobs(self.gather, self.drs_region, self.job_ids, self.jobs_since(), together)

    def servers(self) -> list[str]:
        """The source servers to describe, once the jobs are read."""
        return drs.servers_to_describe(self.snap.drs_jobs, self.snap.execution_record, self.wave_servers)

    def read_servers_and_logs(self, together: drs.Together | None = None) -> None:
        """The jobs' source servers and recovery instances, and the log items of the jobs that explain."""
        gather, snap, region, server_ids = self.gather, self.snap, self.drs_region, self.servers()
        jobs = drs.jobs_to_read(snap.drs_jobs, snap.execution_record)
        answers = gather.in_parallel([partial(drs.source_servers, gather, region, server_ids, together),
                                      partial(drs.recovery_instances, gather, region, server_ids, together),
                                      *[partial(drs.log_items, gather, region, job.job_id) for job in jobs]])
        logs = {job.job_id: items for job, items in zip(jobs, answers[2:], strict=True) if items is not None}
        snap.source_servers, snap.recovery_instances, snap.job_log_items = answers[0], answers[1], logs

    def finish(self) -> Snapshot:
        mark_unreached(self.snap)  # a fact found through one that could not be read is missing, not empty
        self.gather.progress(f"done: {self.gather.session.call_log.summary()}")
        return self.snap


def begin(execution_arn: str, session: AwsSession, *, history_limit: int = DEFAULT_HISTORY_LIMIT,
          progress: Progress | None = None, now: datetime | None = None, workers: int = 12,
          shared: Memo | None = None, logs_since: datetime | None = None) -> Collection:
    """Every fact about one execution but its roles' decisions and its DRS jobs (collect() for the arguments
    and what it raises)."""
    target = parse_execution_arn(execution_arn)
    snap = Snapshot(target=target.arn, region=target.region, account=target.account,
                    collected_at=now or datetime.now(timezone.utc))
    gather = Gatherer(session, snap, target.region, workers, progress, shared)
    say = gather.progress

    say("reading the execution, its history and its state machine")
    execution, machine, history, region_tables, machine_tags = gather.in_parallel([
        lambda: stepfunctions.execution(gather, target),
        lambda: stepfunctions.state_machine(gather, target.state_machine_arn),
        lambda: stepfunctions.history(gather, target, history_limit),
        lambda: tables.region_table_names(gather),
        lambda: stack.machine_tags(gather, target.state_machine_arn),
    ])
    snap.execution, snap.state_machine, snap.history = execution, machine, history
    snap.region_table_names = region_tables

    calls, notes = stepfunctions.task_functions(machine.definition) if machine else ({}, [])
    snap.notes.extend(notes)
    say(f"reading the {len(set(calls.values()))} functions the state machine calls")
    found = {f.function.name: f for f in gather.in_parallel(
        [partial(functions.function, gather, ref) for ref in dict.fromkeys(calls.values())]) if f}
    called = set(found)

    say("finding the stack that owns them")
    physical = {target.state_machine_arn, *called}
    owner = stack.owning_stack_name(gather, [f.tags for f in found.values()] + [machine_tags], physical)
    snap.stack = stack.stack(gather, owner) if owner else None
    if owner is None:
        snap.notes.append("no CloudFormation stack owns the state machine or its functions: finder and "
                          "poller found only through the functions' environment")

    others = [r.physical_id for r in (snap.stack.resources if snap.stack else [])
              if r.type == "AWS::Lambda::Function" and r.physical_id]
    if snap.stack is None:
        named = {value for f in found.values() for name, value in f.function.environment.items()
                 if "TABLE" in name.upper()}
        others += functions.sharing_tables(gather, named)
    tried: set[str] = set()
    for _ in range(2):  # the finder names the poller: a poller seen only through it needs a second round
        others += [f.function.environment[POLLER_FUNCTION] for f in found.values()
                   if POLLER_FUNCTION in f.function.environment]
        others = [ref for ref in dict.fromkeys(others)
                  if functions.bare_name(ref) not in found and ref not in tried]
        tried.update(others)
        for item in gather.in_parallel([partial(functions.function, gather, ref) for ref in others]):
            if item:
                found.setdefault(item.function.name, item)
    snap.functions = [f.function for f in found.values()]
    functions.classify(snap.functions, called, POLLER_FUNCTION)

    say("reading functions, logs, rules, tables, the execution record, DRS jobs and role permissions")
    since = logs_since or (execution.start_date if execution else None)
    named_tables = tables.table_variables(snap.functions)
    rules_found: list[list[Rule]] = []
    described: dict[str, Table | None] = {}

    def rules_of(item: Function) -> None:
        names = rules.rule_names_targeting(gather, item)
        rules_found.append([found for name in names if (found := rules.rule(gather, name))])

    def describe(name: str) -> None:
        described[name] = tables.table(gather, name)

    steps: list[Callable[[], Any]] = [step for f in found.values()
                                      for step in functions.detail_steps(gather, f, since)]
    steps += [partial(rules_of, item) for item in snap.functions]
    steps += [partial(describe, name) for name in named_tables]
    steps += [partial(_record, gather, snap)]  # last: its answer is the Collection
    collection: Collection = gather.in_parallel(steps)[-1]

    snap.tables = [table for name in named_tables if (table := described.get(name))]
    snap.rules = list({r.name: r for group in rules_found for r in group}.values())
    return collection


def _record(gather: Gatherer, snap: Snapshot) -> Collection:
    """The execution record (by the table the orchestration function writes), and the DRS jobs and servers
    that it and the history name."""
    writer = (snap.function_of_kind("orchestration") or snap.function_of_kind("poller")
              or next((f for f in snap.functions if EXECUTION_TABLE in f.environment), None))
    table_name = writer.environment.get(EXECUTION_TABLE) if writer else None
    if table_name:
        described = tables.table(gather, table_name)
        if described is not None and described.exists:
            snap.execution_record = tables.execution_record(gather, described, snap.target)
    events = snap.history.events if snap.history else []
    history_text = json.dumps([event.details for event in events], default=str)
    record_text = json.dumps(snap.execution_record.item, default=str) if snap.execution_record else ""
    job_ids = tables.job_ids_in(record_text, history_text)
    wave_servers = [server for wave in (snap.execution_record.waves if snap.execution_record else [])
                    for server in wave.server_ids]
    region = (writer.environment.get(DRS_REGION) if writer else None) or snap.region
    return Collection(gather, snap, region, job_ids, wave_servers)
