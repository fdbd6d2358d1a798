"""What each orchestrator role must be allowed to do, read from drs_needs.yaml (sources cited there).

Role kinds: "orchestration" (starts waves with drs:StartRecovery), "finder" (the scheduled
execution-finder), "poller" (the execution-poller) and "statemachine" (the Step Functions role).
A need marked `follow_on` is performed by DRS with the caller's credentials after StartRecovery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from drsdoctor.cache import computed_once
from drsdoctor.errors import InputError

ROLE_KINDS = ("orchestration", "finder", "poller", "statemachine")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Need:
    """One permission a role needs: the action, where (`*` or an ARN template), why, and the source."""

    action: str
    why: str
    source: str
    resource: str = "*"
    follow_on: bool = False

    def resource_for(self, names: Mapping[str, str]) -> str | None:
        """The resource ARN with its placeholders filled; None when a name is not known."""
        unknown = [key for key in _PLACEHOLDER.findall(self.resource) if key not in names]
        if unknown:
            return None
        return _PLACEHOLDER.sub(lambda match: names[match.group(1)], self.resource)


def _need(raw: Mapping[str, Any], follow_on: bool) -> Need:
    return Need(action=raw["action"], why=raw["why"], source=raw["source"],
                resource=raw.get("resource", "*"), follow_on=follow_on)


@computed_once(maxsize=1)
def _load() -> tuple[tuple[Need, ...], dict[str, tuple[Need, ...]]]:
    import yaml

    data = yaml.safe_load(resources.files("drsdoctor.iam").joinpath("drs_needs.yaml").read_text())
    follow_on = tuple(_need(raw, True) for raw in data["follow_on"])
    roles: dict[str, tuple[Need, ...]] = {}
    for kind, raw_needs in data["roles"].items():
        needs: list[Need] = []
        for raw in raw_needs:
            needs.extend(follow_on if raw.get("follow_on_set") else [_need(raw, False)])
        roles[kind] = tuple(needs)
    return follow_on, roles


def needs_for(kind: str) -> list[Need]:
    """Every need of one role kind, in the order the data lists them."""
    roles = _load()[1]
    if kind not in roles:
        raise InputError(f"unknown role kind {kind!r} (one of {', '.join(ROLE_KINDS)})")
    return list(roles[kind])


def follow_on_needs() -> list[Need]:
    """The actions DRS performs with the StartRecovery caller's credentials."""
    return list(_load()[0])


def follow_on_actions() -> list[str]:
    return [need.action for need in follow_on_needs()]


def actions_for(kind: str) -> list[str]:
    """The distinct actions of one role kind, first occurrence first."""
    return list(dict.fromkeys(need.action for need in needs_for(kind)))
