"""The orchestrator map: what an operator says about their orchestrator where discovery could not tell
(or told wrong). `discover --format yaml` writes one; `diagnose --map FILE` reads it. An entry that
contradicts the deployment is a note in the report, never trusted silently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drsdoctor.errors import InputError
from drsdoctor.topology.model import PROGRESS_MODES, StatusPlace, Topology

if TYPE_CHECKING:
    from drsdoctor.snapshot import Snapshot

MAP_SCHEMA = "drsdoctor.orchestrator-map/1"
KEY_SOURCES = ("execution-arn", "execution-name")


@dataclass
class OrchestratorMap:
    mode: str = ""
    pollers: list[str] = field(default_factory=list)
    record_table: str = ""
    record_key: str = ""
    key_source: str = ""
    status_attribute: str = ""
    done_values: list[str] = field(default_factory=list)
    failed_values: list[str] = field(default_factory=list)
    source: str = ""

    def apply(self, topology: Topology, snap: Snapshot) -> None:
        """Apply each entry the deployment agrees with; note the others."""
        notes = topology.map_notes
        if self.mode and self.mode != topology.progress.mode:
            notes.append(f"progress is {self.mode} (the map); discovery found {topology.progress.mode}")
            topology.progress.mode = self.mode
            topology.unknown = [u for u in topology.unknown if not u.startswith("how progress")]
        if self.pollers:
            self._apply_pollers(topology, snap)
        if self.record_table:
            self._apply_record(topology, snap)
        for place in topology.wave_status:
            place.done_values = self.done_values or place.done_values
            place.failed_values = self.failed_values or place.failed_values

    def _apply_pollers(self, topology: Topology, snap: Snapshot) -> None:
        drivers = []
        for name in self.pollers:
            function = snap.function(name)
            part = topology.part(function.arn) if function else None
            if function is None or part is None:
                topology.map_notes.append(
                    f"the map names {name} as the poller, but it is not a function of "
                    "this orchestrator: ignored"
                )
                continue
            part.role = "poller"
            drivers.append(part.id)
            rules = [
                rule.arn or rule.name for rule in snap.rules_targeting(function) if rule.schedule_expression
            ]
            topology.progress.rules = list(dict.fromkeys(topology.progress.rules + rules))
        if drivers and set(drivers) != set(topology.progress.drivers):
            topology.map_notes.append(f"the poller is {', '.join(self.pollers)} (the map)")
            topology.progress.drivers = drivers

    def _apply_record(self, topology: Topology, snap: Snapshot) -> None:
        table = snap.table(self.record_table)
        exists = (table is not None and table.exists) or self.record_table in snap.region_table_names
        if not exists:
            topology.map_notes.append(
                f"the map says the wave status lives in table {self.record_table}, which "
                "does not exist in the region: ignored"
            )
            return
        if table is not None and self.record_key and self.record_key not in table.keys:
            topology.map_notes.append(
                f"the map keys the record by {self.record_key}, which is not a key of "
                f"{self.record_table} ({', '.join(table.keys) or 'no keys read'}): ignored"
            )
            return
        place = topology.record_place()
        if place is None or place.table != self.record_table:
            if place is not None:
                topology.wave_status.remove(place)
                topology.map_notes.append(
                    f"the wave status lives in {self.record_table} (the map); discovery found {place.table}"
                )
            place = StatusPlace(
                "record", table=self.record_table, evidence=[f"the orchestrator map {self.source}"]
            )
            topology.wave_status.append(place)
        place.key = self.record_key or place.key
        place.key_source = self.key_source or place.key_source
        place.attribute = self.status_attribute or place.attribute
        topology.unknown = [u for u in topology.unknown if not u.startswith("where the wave status")]


def load(path: str) -> OrchestratorMap:
    """Read a map file; a missing or malformed one is the user's input error (exit 2)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise InputError(f"cannot read orchestrator map {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise InputError(f"orchestrator map {path} is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(data, dict) or data.get("schema") != MAP_SCHEMA:
        raise InputError(f"{path} is not an orchestrator map (expected schema: {MAP_SCHEMA})")
    progress = _section(data, "progress", path)
    status = _section(data, "wave_status", path)
    mode = str(progress.get("mode") or "")
    if mode and mode not in PROGRESS_MODES:
        raise InputError(f"orchestrator map {path}: progress.mode must be one of {', '.join(PROGRESS_MODES)}")
    source = str(status.get("key_source") or "")
    if source and source not in KEY_SOURCES and not source.startswith("input:"):
        raise InputError(
            f"orchestrator map {path}: wave_status.key_source must be execution-arn, "
            "execution-name or input:FIELD"
        )
    return OrchestratorMap(
        mode=mode,
        pollers=_strings(progress.get("pollers"), path),
        record_table=str(status.get("table") or ""),
        record_key=str(status.get("key") or ""),
        key_source=source,
        status_attribute=str(status.get("attribute") or ""),
        done_values=_strings(status.get("done"), path),
        failed_values=_strings(status.get("failed"), path),
        source=path,
    )


def _section(data: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    section = data.get(name) or {}
    if not isinstance(section, dict):
        raise InputError(f"orchestrator map {path}: {name} must be a mapping")
    return section


def _strings(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InputError(f"orchestrator map {path}: expected a name or a list of names, got {value!r}")


def as_map(topology: Topology, target: str) -> dict[str, Any]:
    """The topology as found, shaped as an orchestrator map an operator can correct and pass back."""
    record = topology.record_place()
    pollers = [part.name for part in topology.parts if part.role == "poller"]
    return {
        "schema": MAP_SCHEMA,
        "discovered_from": target,
        "progress": {
            "mode": topology.progress.mode,
            "pollers": pollers,
            "evidence": topology.progress.evidence,
        },
        "wave_status": (
            {
                "table": record.table,
                "key": record.key,
                "key_source": record.key_source,
                "attribute": record.attribute,
                "done": record.done_values,
                "failed": record.failed_values,
            }
            if record
            else {"table": "", "key": "", "key_source": "", "attribute": "", "done": [], "failed": []}
        ),
        "wave_status_in_history": [place.state for place in topology.wave_status if place.where == "history"],
        "drs_region": topology.drs_region,
        "parts": [
            {
                "id": part.id,
                "kind": part.kind,
                "name": part.name,
                **({"role": part.role} if part.role else {}),
                "evidence": part.evidence,
            }
            for part in topology.parts
        ],
        "edges": [
            {"from": edge.source, "to": edge.target, "relation": edge.relation, "evidence": edge.evidence}
            for edge in topology.edges
        ],
        "could_not_tell": topology.unknown,
        "notes": topology.map_notes,
    }
