"""The orchestrator as a small graph: its parts, how they connect, how progress is driven and where the
wave status lives, each with the evidence that found it. Plain dataclasses: saved in bundles, built by
hand in tests, asked by checks instead of names."""

from __future__ import annotations

from dataclasses import dataclass, field

# How an execution's progress is driven
SELF_POLLING = "self-polling"  # the machine asks DRS itself in a Task -> Wait -> Choice loop
SCHEDULED_POLLER = "scheduled-poller"  # a scheduled function writes the wave status to a record it reads
CALLBACK = "callback"  # a Task waits for a token someone else sends back
UNKNOWN = "unknown"
PROGRESS_MODES = (SELF_POLLING, SCHEDULED_POLLER, CALLBACK, UNKNOWN)

# The parts' kinds
PART_KINDS = (
    "statemachine",
    "function",
    "integration",
    "table",
    "index",
    "rule",
    "role",
    "region",
    "account",
    "stack",
)
# What a function does in the design (Function.kind in the Snapshot)
FUNCTION_ROLES = ("orchestration", "finder", "poller", "other")


@dataclass
class Part:
    """One node: `id` is its ARN (or name where there is none), `evidence` how it was found."""

    id: str
    kind: str
    name: str = ""
    role: str = ""  # for functions: orchestration | finder | poller | other
    evidence: list[str] = field(default_factory=list)


@dataclass
class Edge:
    """`source` relates to `target` (invokes, names, targets, drives, owns, nested-in, calls)."""

    source: str
    target: str
    relation: str
    evidence: str = ""


@dataclass
class Progress:
    mode: str = UNKNOWN
    drivers: list[str] = field(default_factory=list)  # the parts that move the wave status
    rules: list[str] = field(default_factory=list)  # the schedule rules those drivers depend on
    evidence: list[str] = field(default_factory=list)


@dataclass
class StatusPlace:
    """Where the wave status can be read: the execution's own history (the loop's task outputs) or a
    record in a table, found through its key schema."""

    where: str  # history | record
    table: str = ""
    key: str = ""  # the partition key attribute
    key_source: str = ""  # execution-arn | execution-name | input:<field>
    sort_key: str = ""
    attribute: str = ""  # the status attribute's path in the item, as found
    state: str = ""  # for the history: the loop's Task state whose output carries the status
    done_values: list[str] = field(default_factory=list)
    failed_values: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


@dataclass
class DrsCaller:
    """A function that calls DRS: in which account and region, as which role (one it assumes, or its own),
    and whether it starts the jobs (drs:StartRecovery) or asks about them (drs:DescribeJobs)."""

    function: str  # the function's name
    region: str = ""
    account: str = ""
    role: str = ""  # the role ARN it assumes for its DRS calls; empty: its own role
    region_from: str = ""  # the environment variable that names its DRS region, where one does
    starts_jobs: bool = False
    polls_jobs: bool = False
    evidence: list[str] = field(default_factory=list)


@dataclass
class Topology:
    parts: list[Part] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    wave_status: list[StatusPlace] = field(default_factory=list)
    drs_region: str = ""
    drs_account: str = ""  # the account DRS is called in, where it is not the state machine's
    drs_callers: list[DrsCaller] = field(default_factory=list)  # where each function calls DRS, as whom
    poll_interval_seconds: int | None = None  # how often the loop waits, where the design says
    wave_timeout_minutes: int | None = None  # how long a wave may take, where the design says
    unknown: list[str] = field(default_factory=list)  # what discovery could not tell
    map_notes: list[str] = field(default_factory=list)  # the orchestrator map's entries, applied or not

    # -- asking the graph ---------------------------------------------------------------------------

    def part(self, part_id: str) -> Part | None:
        return next((part for part in self.parts if part.id == part_id), None)

    def parts_of(self, kind: str) -> list[Part]:
        return [part for part in self.parts if part.kind == kind]

    def add(self, part_id: str, kind: str, evidence: str, name: str = "") -> Part:
        """The part, created or given one more piece of evidence."""
        found = self.part(part_id)
        if found is None:
            found = Part(part_id, kind, name or part_id)
            self.parts.append(found)
        if evidence and evidence not in found.evidence:
            found.evidence.append(evidence)
        return found

    def connect(self, source: str, target: str, relation: str, evidence: str) -> None:
        if not any(e.source == source and e.target == target and e.relation == relation for e in self.edges):
            self.edges.append(Edge(source, target, relation, evidence))

    def targets_of(self, source: str, relation: str | None = None) -> list[str]:
        return [e.target for e in self.edges if e.source == source and relation in (None, e.relation)]

    def sources_of(self, target: str, relation: str | None = None) -> list[str]:
        return [e.source for e in self.edges if e.target == target and relation in (None, e.relation)]

    def record_place(self) -> StatusPlace | None:
        return next((place for place in self.wave_status if place.where == "record"), None)

    def history_place(self) -> StatusPlace | None:
        return next((place for place in self.wave_status if place.where == "history"), None)

    def drives_progress(self, rule_name: str) -> bool:
        return rule_name in self.progress.rules

    def what_rule_runs(self, rule_arn: str) -> list[str]:
        """The names of the parts a rule targets."""
        names = []
        for target in self.targets_of(rule_arn, "targets"):
            part = self.part(target)
            names.append(part.name if part else target)
        return names

    def describe(self) -> list[str]:
        """How this orchestrator works, in a few sentences for the report."""
        lines = [
            f"progress: {self.progress.mode}"
            + (
                f" (driven by {', '.join(self._names(self.progress.drivers))})"
                if self.progress.drivers
                else ""
            )
        ]
        lines += [f"  {line}" for line in self.progress.evidence]
        for place in self.wave_status:
            if place.where == "history":
                lines.append(
                    f"wave status: in the execution's history (outputs of {place.state or 'its tasks'})"
                )
            else:
                lines.append(
                    f"wave status: record in table {place.table} keyed by {place.key} = "
                    f"{place.key_source}" + (f", status at {place.attribute}" if place.attribute else "")
                )
        if self.drs_region:
            lines.append(f"DRS region: {self.drs_region}")
        if self.drs_account:
            lines.append(f"DRS account: {self.drs_account}")
        for caller in self.drs_callers:
            does = " and ".join(word for word, yes in (("starts jobs", caller.starts_jobs),
                                                         ("asks about them", caller.polls_jobs)) if yes)
            role = f" as role {caller.role}" if caller.role else ""
            lines.append(f"DRS: {caller.function} {does or 'calls DRS'} in {caller.account or '?'}/"
                         f"{caller.region or '?'}{role}")
        lines += [f"could not tell: {item}" for item in self.unknown]
        lines += [f"map: {note}" for note in self.map_notes]
        return lines

    def _names(self, ids: list[str]) -> list[str]:
        return [part.name if (part := self.part(item)) else item for item in ids]
