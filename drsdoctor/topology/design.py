"""From the parts found to the design: what each function does, how progress is driven and where the
wave status lives. Pure functions of what collect/ read, so a test builds the inputs by hand."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from drsdoctor.snapshot import Function, Rule, StateMachine
from drsdoctor.topology.definition import TaskTarget
from drsdoctor.topology.model import CALLBACK, SCHEDULED_POLLER, SELF_POLLING, StatusPlace, Topology
from drsdoctor.topology.values import Known, resolve, table_name_hinted


@dataclass
class Deployment:
    """What collect/ found, as discovery needs it."""

    machine: StateMachine
    targets: list[TaskTarget]
    functions: list[Function]
    rules: list[Rule] = field(default_factory=list)
    known: Known = field(default_factory=Known)
    stacks: list[tuple[str, str]] = field(default_factory=list)  # (stack name, how it relates)
    region: str = ""
    found_by: dict[str, str] = field(default_factory=dict)  # function name -> how it was found


def function_of(ref: str, functions: list[Function]) -> Function | None:
    bare = ":".join(ref.split(":")[:7]) if ref.startswith("arn:") else ref.split(":")[0]
    return next((f for f in functions if bare in (f.name, f.arn)), None)


def called_by_machine(targets: list[TaskTarget], functions: list[Function]) -> list[Function]:
    found = [function_of(t.target, functions) for t in targets if t.kind == "function"]
    return list({f.name: f for f in found if f}.values())


def named_tables(item: Function, known: Known) -> list[str]:
    """The tables a function's environment names (by value; by the variable's name when no such table)."""
    tables = []
    for variable, value in item.environment.items():
        named = resolve(value, known)
        if named is not None and named.kind == "table":
            tables.append(named.value)
        elif named is None and value and table_name_hinted(variable):
            tables.append(value)
    return list(dict.fromkeys(tables))


def named_functions(item: Function, known: Known) -> list[str]:
    return [
        named.value
        for value in item.environment.values()
        if (named := resolve(value, known)) is not None and named.kind == "function"
    ]


def record_candidates(targets: list[TaskTarget], functions: list[Function], known: Known) -> list[str]:
    """Tables that may hold the execution's record, likeliest first: those the machine's functions share
    with other functions of the orchestrator (what one writes and another reads), then the machine's own."""
    called = {f.name for f in called_by_machine(targets, functions)}
    direct = [
        t.target.split(":", 1)[1]
        for t in targets
        if t.kind == "integration" and t.target.startswith("dynamodb:")
    ]
    mine = Counter(table for f in functions if f.name in called for table in named_tables(f, known))
    others = {table for f in functions if f.name not in called for table in named_tables(f, known)}
    shared = sorted((table for table in mine if table in others), key=lambda table: -mine[table])
    if shared:  # what one part writes and another reads: the record lives there, not in the others
        return shared
    ranked = sorted(mine, key=lambda table: -mine[table])
    return list(dict.fromkeys(ranked + [t for t in direct if t in known.tables]))


def timings(functions: list[Function]) -> tuple[int | None, int | None, list[str]]:
    """The poll interval (seconds) and wave timeout (minutes) the machine's functions are configured with,
    told by what their variables' names mean (an interval to poll or wait, a timeout, and its unit)."""
    poll = timeout = None
    evidence = []
    for item in functions:
        for variable, value in sorted(item.environment.items()):
            words, number = variable.upper(), int(value) if value.isdigit() and int(value) > 0 else None
            if number is None or "MAX" in words:
                continue
            if (
                poll is None
                and ("POLL" in words or "WAIT" in words)
                and ("SEC" in words or "INTERVAL" in words)
            ):
                poll = number if "MIN" not in words else number * 60
                evidence.append(f"{item.name}'s variable {variable}={value}: polls every {poll}s")
            elif timeout is None and "TIMEOUT" in words and ("MIN" in words or "SEC" in words):
                timeout = number if "MIN" in words else max(1, number // 60)
                evidence.append(
                    f"{item.name}'s variable {variable}={value}: a wave may take {timeout} minutes"
                )
    return poll, timeout, evidence


def build(found: Deployment) -> Topology:
    topology = Topology()
    machine, known = found.machine, found.known
    topology.add(machine.arn, "statemachine", "the execution's state machine", machine.name)
    for name, how in found.stacks:
        topology.add(f"stack/{name}", "stack", how, name)
        topology.connect(f"stack/{name}", machine.arn, "owns" if how.startswith("owns") else "related", how)
    _tasks(topology, found)
    for item in found.functions:
        topology.add(item.arn or item.name, "function", found.found_by.get(item.name, ""), item.name)
        _environment(topology, item, known)
    _rules(topology, found)
    _roles_and_progress(topology, found)
    called = [
        f for f in found.functions if (p := topology.part(f.arn)) is not None and p.role == "orchestration"
    ]
    topology.poll_interval_seconds, topology.wave_timeout_minutes, said = timings(called)
    topology.progress.evidence.extend(said)
    regions = [p.name for p in topology.parts_of("region")]
    drivers = set(topology.progress.drivers)
    driving_regions = [r for d in drivers for r in topology.targets_of(d, "names") if r.startswith("region/")]
    topology.drs_region = (
        driving_regions[0].split("/", 1)[1]
        if driving_regions
        else regions[0]
        if len(regions) == 1
        else found.region
    )
    return topology


def _tasks(topology: Topology, found: Deployment) -> None:
    for target in found.targets:
        if target.kind == "function":
            item = function_of(target.target, found.functions)
            part = item.arn if item else target.target
            topology.add(part, "function", target.evidence, item.name if item else target.target)
            topology.connect(found.machine.arn, part, "invokes", target.evidence)
        elif target.kind == "integration":
            topology.add(target.target, "integration", target.evidence)
            topology.connect(found.machine.arn, target.target, "calls", target.evidence)
        elif target.kind == "machine" and target.target:
            topology.add(target.target, "statemachine", target.evidence, target.target.rsplit(":", 1)[-1])
            topology.connect(found.machine.arn, target.target, "starts", target.evidence)


def _environment(topology: Topology, item: Function, known: Known) -> None:
    source = item.arn or item.name
    for variable, value in sorted(item.environment.items()):
        named = resolve(value, known)
        if named is None:
            if value and table_name_hinted(variable):
                evidence = f"{item.name}'s variable {variable}={value}: its name says table; no such table"
                topology.add(value, "table", evidence)
                topology.connect(source, value, "names", evidence)
            continue
        evidence = f"{item.name}'s variable {variable}={value}: {named.how}"
        if named.kind == "function":
            target = known.functions.get(named.value, named.value)
            part = topology.add(
                target, "function", evidence, target.split(":")[6] if target.startswith("arn:") else target
            )
            topology.connect(source, part.id, "names", evidence)
            continue
        part_id = (
            named.value if named.kind in ("table", "statemachine", "role") else f"{named.kind}/{named.value}"
        )
        topology.add(part_id, named.kind, evidence, named.value)
        topology.connect(source, part_id, "names", evidence)


def _rules(topology: Topology, found: Deployment) -> None:
    for rule in found.rules:
        rule_id = rule.arn or rule.name
        when = rule.schedule_expression or "an event pattern"
        topology.add(rule_id, "rule", f"rule {rule.name} ({when}, {rule.state}) targets a part", rule.name)
        for target in rule.targets:
            item = function_of(target.arn, found.functions)
            part = item.arn if item else target.arn
            if topology.part(part) is None:
                continue
            evidence = f"rule {rule.name} ({when}, {rule.state}) targets {item.name if item else part}"
            topology.connect(rule_id, part, "targets", evidence)


def _schedules(topology: Topology, found: Deployment) -> dict[str, list[str]]:
    """Each scheduled function's part id -> the rules (ids) that run it on a schedule."""
    scheduled: dict[str, list[str]] = {}
    for rule in found.rules:
        if not rule.schedule_expression:
            continue
        for target in topology.targets_of(rule.arn or rule.name, "targets"):
            part = topology.part(target)
            if part is not None and part.kind == "function":
                scheduled.setdefault(target, []).append(rule.arn or rule.name)
    return scheduled


def _roles_and_progress(topology: Topology, found: Deployment) -> None:
    machine, known = found.machine.arn, found.known
    by_id = {f.arn or f.name: f for f in found.functions}
    called = set(topology.targets_of(machine, "invokes"))
    for part_id in called:
        if (part := topology.part(part_id)) is not None:
            part.role = "orchestration"
    loop = [t for t in found.targets if t.in_loop]
    loop_functions = [
        f.arn for t in loop if t.kind == "function" and (f := function_of(t.target, found.functions))
    ]
    progress = topology.progress
    if loop:
        states = ", ".join(dict.fromkeys(t.state for t in loop))
        topology.wave_status.append(
            StatusPlace(
                "history", state=states, evidence=[f"the outputs of {states}, in the execution's history"]
            )
        )
    drs_calls = [t for t in loop if t.kind == "integration" and t.target.startswith("drs:")]
    # which scheduled chains (a scheduled function and the functions it names) share a table with the
    # functions the machine calls in its loop (or at all): those write what the machine reads
    readers = loop_functions or sorted(called)
    read_tables = {table for ref in readers if (f := by_id.get(ref)) for table in named_tables(f, known)}
    driving: list[tuple[str, list[str], list[str], str]] = []  # head, chain, rules, shared table
    for head, rules in _schedules(topology, found).items():
        if head in called:
            continue
        named = named_functions(by_id[head], known) if head in by_id else []
        chain = [head] + [known.functions.get(n, n) for n in named]
        shared = [
            t for ref in chain if (f := by_id.get(ref)) for t in named_tables(f, known) if t in read_tables
        ]
        if shared:
            driving.append((head, chain, rules, shared[0]))
        else:
            for part_id in chain:
                if (part := topology.part(part_id)) is not None and not part.role:
                    part.role = "other"
            topology.progress.evidence.append(
                f"the schedule of {_name(topology, head)} does not drive this execution: none of its "
                "tables is one the state machine's functions read"
            )
    callbacks = [t for t in found.targets if t.callback]
    if drs_calls:
        progress.mode, progress.drivers = SELF_POLLING, list(dict.fromkeys(t.target for t in drs_calls))
        progress.evidence.insert(0, f"{drs_calls[0].evidence}, inside a loop that waits")
    elif driving:
        progress.mode = SCHEDULED_POLLER
        for head, chain, rules, table in driving:
            pollers = chain[1:] or chain
            for part_id in chain:
                if (part := topology.part(part_id)) is not None:
                    part.role = "poller" if part_id in pollers else "finder"
                    progress.drivers.append(part_id)
            progress.rules.extend(rules)
            for rule in rules:
                topology.connect(
                    rule, machine, "drives", f"{_name(topology, rule)} runs {_name(topology, head)}"
                )
            progress.evidence.insert(
                0,
                f"the schedule {', '.join(_name(topology, r) for r in rules)} runs "
                f"{' -> '.join(_name(topology, p) for p in chain)}, which shares table "
                f"{table} with the state machine's functions",
            )
        progress.drivers = list(dict.fromkeys(progress.drivers))
        tables = [d[3] for d in driving]
        topology.wave_status.append(
            StatusPlace(
                "record",
                table=tables[0],
                evidence=[
                    f"table {tables[0]} is written by the scheduled poller and read by the state "
                    "machine's functions"
                ],
            )
        )
    elif loop_functions:
        progress.mode, progress.drivers = SELF_POLLING, list(dict.fromkeys(loop_functions))
        progress.evidence.insert(
            0,
            f"Task {loop[0].state} calls {_name(topology, loop_functions[0])} inside a "
            "loop that waits, and no scheduled function writes what it reads",
        )
    elif callbacks:
        progress.mode, progress.drivers = CALLBACK, [machine]
        progress.evidence.insert(0, f"Task {callbacks[0].state} waits for a task token")
    else:
        topology.unknown.append(
            "how progress is driven: no polling loop, schedule or callback was found "
            "(say so in an orchestrator map: progress.mode)"
        )
    for item in found.functions:
        part = topology.part(item.arn or item.name)
        if part is not None and not part.role:
            part.role = "other"
    if not topology.record_place() and not topology.history_place():
        topology.unknown.append("where the wave status lives (say so in an orchestrator map: wave_status)")


def _name(topology: Topology, part_id: str) -> str:
    part = topology.part(part_id)
    return part.name if part else part_id
