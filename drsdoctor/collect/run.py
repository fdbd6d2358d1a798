"""From an execution ARN to a filled Snapshot: the order of the collector's steps and what runs at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

from drsdoctor.aws import AwsSession
from drsdoctor.collect import drs, functions, roles, rules, stack, stepfunctions, tables, xaccount
from drsdoctor.collect.gather import NOT_REACHED, Gatherer, Memo, Progress, mark_unreached
from drsdoctor.collect.target import parse_execution_arn
from drsdoctor.snapshot import FactError, Rule, Snapshot, Table
from drsdoctor.topology import definition, design
from drsdoctor.topology.model import StatusPlace
from drsdoctor.topology.orchestrator_map import OrchestratorMap
from drsdoctor.topology.values import Known

DEFAULT_HISTORY_LIMIT = 1000
MAX_RECORD_TABLES = 3  # the likeliest tables asked for the execution's record


def collect(execution_arn: str, session: AwsSession, *, history_limit: int = DEFAULT_HISTORY_LIMIT,
            progress: Progress | None = None, now: datetime | None = None, workers: int = 12,
            shared: Memo | None = None, logs_since: datetime | None = None,
            orchestrator_map: OrchestratorMap | None = None) -> Snapshot:
    """Every fact about one execution. Raises InputError for a bad ARN or an EXPRESS machine,
    ExecutionNotFound for an unknown execution, AwsUnavailable with no credentials or no endpoint;
    anything else that fails is a FactError in the Snapshot. `shared`: the answers already gathered for
    another execution of the same state machine (collect/fleet.py), asked for only once; `logs_since`: read
    the functions' recent errors from then rather than from this execution's start, so that the executions
    of one machine share one read of each log group."""
    collection = begin(execution_arn, session, history_limit=history_limit, progress=progress, now=now,
                       workers=workers, shared=shared, logs_since=logs_since,
                       orchestrator_map=orchestrator_map)
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
    starts_jobs: bool = True  # the machine calls a function or DRS: it may have started a job
    now_given: bool = False  # the caller fixed the checks' "now" (one for many executions)
    drs_reader: Gatherer | None = None  # reads DRS where it runs (another account's credentials)
    unreached_account: str = ""  # the account DRS runs in, when it could not be reached: its facts missing

    def reader(self) -> Gatherer:
        return self.drs_reader or self.gather

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
        if self.job_ids or execution is None or not self.starts_jobs:
            return None
        return execution.start_date

    def read_jobs(self, together: drs.Together | None = None) -> None:
        if self.unreached_account:  # nothing to read with: the jobs are missing, not none
            xaccount.unreached(self.snap, self.unreached_account)
            return
        self.snap.drs_jobs = drs.jobs(self.reader(), self.drs_region, self.job_ids, self.jobs_since(),
                                      together, self.wave_servers)

    def servers(self) -> list[str]:
        """The source servers to describe, once the jobs are read."""
        return drs.servers_to_describe(self.snap.drs_jobs, self.snap.execution_record, self.wave_servers)

    def read_servers_and_logs(self, together: drs.Together | None = None) -> None:
        """The jobs' source servers and recovery instances, and the log items of the jobs that explain."""
        if self.unreached_account:
            return
        gather, snap, region, server_ids = self.reader(), self.snap, self.drs_region, self.servers()
        jobs = drs.jobs_to_read(snap.drs_jobs, snap.execution_record)
        answers = gather.in_parallel([partial(drs.source_servers, gather, region, server_ids, together),
                                      partial(drs.recovery_instances, gather, region, server_ids, together),
                                      *[partial(drs.log_items, gather, region, job.job_id) for job in jobs]])
        logs = {job.job_id: items for job, items in zip(jobs, answers[2:], strict=True) if items is not None}
        snap.source_servers, snap.recovery_instances, snap.job_log_items = answers[0], answers[1], logs

    def finish(self) -> Snapshot:
        mark_unreached(self.snap)  # a fact found through one that could not be read is missing, not empty
        if not self.now_given:  # "now" is when the last fact was read: no fact is newer than the report's now
            self.snap.collected_at = self.gather.session.endpoint_time.latest or datetime.now(timezone.utc)
        self.gather.progress(f"done: {self.gather.session.call_log.summary()}")
        return self.snap


def begin(execution_arn: str, session: AwsSession, *, history_limit: int = DEFAULT_HISTORY_LIMIT,
          progress: Progress | None = None, now: datetime | None = None, workers: int = 12,
          shared: Memo | None = None, logs_since: datetime | None = None,
          orchestrator_map: OrchestratorMap | None = None) -> Collection:
    """Every fact about one execution but its roles' decisions and its DRS jobs (collect() for the arguments
    and what it raises). The parts to read are those the topology finds: the definition's Task targets, the
    state machine's stack and its family, the functions' environment values, the rules that target them."""
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
    execution_input = stepfunctions.input_of(execution, history)

    targets, notes = definition.task_targets(machine.definition, execution_input) if machine else ([], [])
    snap.notes.extend(notes)
    refs = list(dict.fromkeys(t.target for t in targets if t.kind == "function"))
    say(f"reading the {len(refs)} functions the state machine calls")
    found = {f.function.name: f for f in gather.in_parallel(
        [partial(functions.function, gather, ref) for ref in refs]) if f}

    say("finding the stack that owns them")
    physical = {target.state_machine_arn, *found}
    owner = stack.owning_stack_name(gather, [machine_tags] + [f.tags for f in found.values()], physical,
                                    target.state_machine_arn)
    snap.stack = stack.stack(gather, owner) if owner else None
    stacks: list[tuple[str, str]] = []
    resources = list(snap.stack.resources) if snap.stack else []
    owner_name = snap.stack.name if snap.stack else ""
    found_by = {r.physical_id: f"a resource of stack {owner_name}" for r in resources}
    if snap.stack is not None:
        stacks.append((snap.stack.name, "owns the state machine"))
        for name, how, items in stack.family(gather, snap.stack):
            stacks.append((name, how))
            resources += items
            shown = name.split("/")[1] if "/" in name else name
            found_by.update({r.physical_id: f"a resource of stack {shown}" for r in items})
    else:
        snap.notes.append("no CloudFormation stack owns the state machine or its functions: its other "
                          "functions found only through the functions' environment values")

    known = Known(tables=set(region_tables) | {r.physical_id for r in resources
                                               if r.type == "AWS::DynamoDB::Table" and r.physical_id})
    partition = target.state_machine_arn.split(":")[1]
    for r in resources:
        if r.type == "AWS::Lambda::Function" and r.physical_id:
            known.functions[r.physical_id] = (
                f"arn:{partition}:lambda:{target.region}:{target.account}:function:{r.physical_id}")
    listing = functions.listed(gather) if snap.stack is None else {}
    known.functions.update({name: arn for name, (arn, _) in listing.items()})
    known.functions.update({f.function.name: f.function.arn for f in found.values()})

    others = [name for name in known.functions if snap.stack is not None]
    if snap.stack is None:  # the functions that share a table with the ones found (one writes, one reads)
        mine = {t for f in found.values() for t in design.named_tables(f.function, known)}
        sharing = [name for name, (_, values) in listing.items() if mine & set(values)]
        found_by.update({name: "configured with a table the state machine's functions name"
                         for name in sharing})
        others += sharing
    tried: set[str] = set()
    for _ in range(3):  # a function named by a function found only through another: a few rounds
        others += [ref for f in found.values() for ref in design.named_functions(f.function, known)]
        others = [ref for ref in dict.fromkeys(others)
                  if functions.bare_name(ref) not in found and ref not in tried]
        tried.update(others)
        for item in gather.in_parallel([partial(functions.function, gather, ref) for ref in others]):
            if item:
                found.setdefault(item.function.name, item)
    snap.functions = [f.function for f in found.values()]
    known.functions.update({f.name: f.arn for f in snap.functions})

    say("reading functions, logs, rules, tables, the execution record, DRS jobs and role permissions")
    since = logs_since or (execution.start_date if execution else None)
    named_tables = list(dict.fromkeys(t for f in snap.functions for t in design.named_tables(f, known)))
    candidates = design.record_candidates(targets, snap.functions, known)
    if orchestrator_map is not None and orchestrator_map.record_table:
        candidates = [orchestrator_map.record_table, *[c for c in candidates
                                                        if c != orchestrator_map.record_table]]
    rules_found: list[list[Rule]] = []
    described: dict[str, Table | None] = {}

    def rules_of(arn: str) -> None:
        names = rules.rule_names_targeting(gather, arn)
        rules_found.append([found for name in names if (found := rules.rule(gather, name))])

    def describe(name: str) -> None:
        described[name] = tables.table(gather, name)

    steps: list[Callable[[], Any]] = [step for f in found.values()
                                      for step in functions.detail_steps(gather, f, since)]
    steps += [partial(rules_of, item.arn) for item in snap.functions]
    steps += [partial(rules_of, target.state_machine_arn)]
    steps += [partial(describe, name) for name in named_tables]
    steps += [partial(_record, gather, snap, candidates, execution_input, orchestrator_map)]
    gather.in_parallel(steps)

    snap.tables = [table for name in named_tables if (table := described.get(name))]
    snap.rules = list({r.name: r for group in rules_found for r in group}.values())
    for table in snap.tables:
        for index in table.indexes:
            known.indexes.setdefault(index.name, set()).add(table.name)
    if machine is not None:
        snap.topology = design.build(design.Deployment(machine, targets, snap.functions, snap.rules, known,
                                                       stacks, target.region, found_by))
    if orchestrator_map is not None:
        orchestrator_map.apply(snap.topology, snap)
    _place_record(snap)
    for item in snap.functions:
        part = snap.topology.part(item.arn)
        item.kind = part.role if part is not None and part.role else "other"
    xaccount.locate(gather, snap)  # where each function calls DRS: account, region, role
    reader = xaccount.reach(gather, snap)
    collection = _collection(gather, snap, targets)
    collection.drs_reader = reader
    collection.unreached_account = snap.topology.drs_account if reader is None else ""
    collection.now_given = now is not None
    return collection


def _record(gather: Gatherer, snap: Snapshot, candidates: list[str], execution_input: dict[str, Any],
            orchestrator_map: OrchestratorMap | None) -> None:
    """The execution's record: the likeliest tables first, each through its key schema, until one holds
    it. The first table's empty answer is kept when none does (the record is missing from it). A table that
    could not be described may hold it: then the record is missing (a fact error), never "none"."""
    missing, unread = None, []
    for name in candidates[:MAX_RECORD_TABLES]:
        described = tables.table(gather, name)
        if described is None:
            unread.append(name)
            continue
        if not described.exists:
            if missing is None and not unread:  # the likeliest table is not there: nothing to read it from
                snap.execution_record = None
                return
            continue
        record = tables.execution_record(gather, described, snap.target, execution_input)
        if record is not None and record.exists:
            snap.execution_record = record
            return
        missing = missing or record
    snap.execution_record = None if unread else missing
    for name in unread:
        problem = snap.missing("tables", name)
        snap.fact_errors.append(FactError(
            fact="execution_record", call=problem.call if problem else "dynamodb:DescribeTable",
            code=problem.code if problem else NOT_REACHED, resource=name,
            message=f"not collected: {name}, which may hold it, could not be described"))


def _place_record(snap: Snapshot) -> None:
    """The record found, placed in the topology (its key, what the key holds, the status attribute)."""
    record, topology = snap.execution_record, snap.topology
    place = topology.record_place()
    if record is None or not record.exists:
        if place is not None and record is not None:
            place.evidence.append(f"no item of this execution in {record.table}")
        return
    if place is None or place.table != record.table:
        if place is not None:
            topology.wave_status.remove(place)
        place = StatusPlace("record", table=record.table)
        topology.wave_status.append(place)
    key, value = next(iter(record.key.items()))
    place.key, place.key_source = key, record.key_source
    place.attribute = place.attribute or record.status_attribute
    place.evidence.append(f"the item of {record.table} whose key {key} is the {record.key_source} "
                          f"({value}) has status {record.status or '(none)'}")


def _collection(gather: Gatherer, snap: Snapshot, targets: list[definition.TaskTarget]) -> Collection:
    """What the DRS reads need: the jobs the record and the history name, the record's waves' servers,
    the region DRS answers in (the one the topology found the poller configured with)."""
    events = snap.history.events if snap.history else []
    history_text = json.dumps([event.details for event in events], default=str)
    record_text = json.dumps(snap.execution_record.item, default=str) if snap.execution_record else ""
    job_ids = tables.job_ids_in(record_text, history_text)
    wave_servers = [server for wave in (snap.execution_record.waves if snap.execution_record else [])
                    for server in wave.server_ids]
    starts = any(t.kind == "function" or t.target.startswith("drs:") for t in targets)
    return Collection(gather, snap, snap.topology.drs_region or snap.region, job_ids, wave_servers, starts)
