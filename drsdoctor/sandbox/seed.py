"""The sandbox's recovery plan: 3 waves (database, app, web) over 6 source servers in protection groups.

Source servers are created in the DRS simulator; protection groups and the plan are written to the
deployed tables in the shape the reference orchestrator reads (drsdoctor.reference.records).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def seed(drs: DrsModel, dynamodb: Any, groups_table: str, plans_table: str) -> list[Plan]:
    """Create the source servers and write the groups and the plan; returns the plans."""
    plan = Plan(PLAN_ID, PLAN_NAME)
    for number, (name, group_id, hostnames) in enumerate(WAVES, start=1):
        servers = [drs.add_source_server(hostname, tags={"wave": name, "Name": hostname})
                   for hostname in hostnames]
        ids = [server.source_server_id for server in servers]
        plan.waves.append(Wave(number, name, group_id, ids, list(hostnames)))
        dynamodb.Table(groups_table).put_item(Item=protection_group(group_id, f"{name} tier", ids))
    waves = [(wave.name, [wave.group_id]) for wave in plan.waves]
    dynamodb.Table(plans_table).put_item(Item=recovery_plan(plan.plan_id, plan.name, waves))
    return [plan]
