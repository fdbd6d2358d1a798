"""The sandbox's recovery plan: by default 3 waves (database, app, web) over 6 source servers in protection
groups; with a PlanSize, N waves of M servers each (up to DRS's and the orchestrator's limits).

Source servers are created in the DRS simulator (`source_servers`, for any orchestrator); `seed` also
writes protection groups and the plan to the deployed tables in the shape the reference orchestrator reads
(drsdoctor.reference.records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drsdoctor.errors import InputError
from drsdoctor.reference import limits
from drsdoctor.reference.records import protection_group, recovery_plan
from drsdoctor.sandbox.drs.model import DrsModel

# (wave name, protection group id, hostnames): the order of recovery.
WAVES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("database", "pg-database", ("db-primary", "db-replica")),
    ("app", "pg-app", ("app-1", "app-2")),
    ("web", "pg-web", ("web-1", "web-2")),
)
PLAN_ID = "plan-three-tier"
PLAN_NAME = "three-tier application"
# The tiers of a sized plan, in launch order; hosts are "<tier>-<n>", so app-2 (the server-launch-failure
# fault's server) is in every sized plan of two waves of two servers or more.
TIERS = ("database", "app", "web", "cache", "queue", "search", "api", "worker", "batch", "edge")


@dataclass(frozen=True)
class PlanSize:
    """A sized plan: `waves` waves of `servers_per_wave` source servers, one protection group a wave."""

    waves: int
    servers_per_wave: int

    def __post_init__(self) -> None:
        problem = plan_size_problem(self.waves, self.servers_per_wave)
        if problem:
            raise InputError(problem)

    @property
    def plan_id(self) -> str:
        return f"plan-{self.waves}-waves-{self.servers_per_wave}-servers"


def plan_size_problem(waves: int, servers_per_wave: int) -> str | None:
    """Why DRS or the reference orchestrator would refuse such a plan, in one line; None when it fits."""
    if not 1 <= waves <= limits.MAX_WAVES:
        return (f"--waves must be 1 to {limits.MAX_WAVES} (the reference orchestrator's most waves a run), "
                f"not {waves}")
    if not 1 <= servers_per_wave <= limits.MAX_SERVERS_IN_ALL_JOBS:
        return (f"--servers-per-wave must be 1 to {limits.MAX_SERVERS_IN_ALL_JOBS} (DRS's quota of source "
                f"servers in all active jobs: a wave's jobs run at once), not {servers_per_wave}")
    if waves * servers_per_wave > limits.MAX_SOURCE_SERVERS_PER_ACCOUNT:
        return (f"{waves} waves of {servers_per_wave} servers is {waves * servers_per_wave} source servers; "
                f"DRS holds at most {limits.MAX_SOURCE_SERVERS_PER_ACCOUNT} in an account (default quota)")
    return None


@dataclass
class Wave:
    number: int
    name: str
    group_id: str
    source_server_ids: list[str]
    hostnames: list[str]


@dataclass
class Plan:
    """A seeded recovery plan, as the demo and tests talk about it."""

    plan_id: str
    name: str
    waves: list[Wave] = field(default_factory=list)

    @property
    def source_server_ids(self) -> list[str]:
        return [sid for wave in self.waves for sid in wave.source_server_ids]

    def server_of(self, hostname: str) -> str:
        """The source server id of a host in this plan."""
        for wave in self.waves:
            for name, server_id in zip(wave.hostnames, wave.source_server_ids, strict=True):
                if name == hostname:
                    return server_id
        raise LookupError(f"no host {hostname} in plan {self.plan_id}")


def plan_layout(size: PlanSize | None) -> tuple[str, str, list[tuple[str, str, list[str]]]]:
    """(plan id, plan name, [(wave name, protection group id, hostnames)]) without touching any service."""
    if size is None:
        return PLAN_ID, PLAN_NAME, [(name, group, list(hosts)) for name, group, hosts in WAVES]
    waves = []
    for number in range(1, size.waves + 1):
        tier = TIERS[number - 1] if number <= len(TIERS) else f"wave-{number}"
        waves.append((tier, f"pg-{tier}", [f"{tier}-{n}" for n in range(1, size.servers_per_wave + 1)]))
    name = f"{size.waves} waves of {size.servers_per_wave} servers"
    return size.plan_id, name, waves


def source_servers(drs: DrsModel, size: PlanSize | None = None) -> Plan:
    """Create the plan's source servers in DRS (any orchestrator's plan: where it is kept is its own)."""
    plan_id, plan_name, layout = plan_layout(size)
    plan = Plan(plan_id, plan_name)
    for number, (name, group_id, hostnames) in enumerate(layout, start=1):
        servers = [drs.add_source_server(hostname, tags={"wave": name, "Name": hostname})
                   for hostname in hostnames]
        plan.waves.append(Wave(number, name, group_id, [server.source_server_id for server in servers],
                               list(hostnames)))
    return plan


def seed(drs: DrsModel, dynamodb: Any, groups_table: str, plans_table: str,
         size: PlanSize | None = None) -> list[Plan]:
    """Create the source servers and write the groups and the plan as the reference reads them."""
    plan = source_servers(drs, size)
    groups = dynamodb.Table(groups_table)
    with groups.batch_writer() as batch:
        for wave in plan.waves:
            batch.put_item(Item=protection_group(wave.group_id, f"{wave.name} tier", wave.source_server_ids))
    waves = [(wave.name, [wave.group_id]) for wave in plan.waves]
    dynamodb.Table(plans_table).put_item(Item=recovery_plan(plan.plan_id, plan.name, waves))
    return [plan]
