"""DDB001: the execution has its record in the table where its wave status lives (what the finder and poller
read), in a design that keeps one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from drsdoctor.checks._common import progress_mode, record_drives

from drsdoctor.checkapi import (
    EXECUTION_STUCK,
    HIGH,
    MECHANISM,
    RECORD_MISSING,
    Finding,
    check,
    error,
    fail,
    passed,
    skip,
)
from drsdoctor.snapshot import Snapshot
from drsdoctor.topology.design import named_tables
from drsdoctor.topology.values import Known


@check(id="DDB001", service="dynamodb", severity=HIGH, layer=MECHANISM, plan_step="transitions",
       title="The execution record exists in the execution-history table",
       remediation="Check that the orchestration function writes this execution's record to {table} and that "
                   "its first step succeeded",
       reads=("execution_record",))
def execution_record(snap: Snapshot) -> Iterator[Finding]:
    record = snap.execution_record
    if not record_drives(snap):  # a record kept beside the run (for a UI): the machine does not read it
        kept = (f"its record in {record.table} is not" if record is not None and record.exists
                else "no record is")
        yield skip(snap.target, f"progress is {progress_mode(snap)}: the wave status lives in the "
                                f"execution's history; {kept} what the machine reads")
        return
    if record is not None and record.exists and not record.status:
        # the finder finds executions by status (the status index): an item without one is never polled
        yield fail(f"{record.table}#{_key(record.key)}", f"the record in {record.table} has no status: the "
                                                          "finder's status query never returns it",
                   evidence=[f"item attributes: {', '.join(sorted(record.item)) or '(none)'}"],
                   shows=RECORD_MISSING, explains=EXECUTION_STUCK, fix={"table": record.table})
        return
    if record is not None and record.exists:
        waves = ", ".join(f"wave {w.number} {w.status}" for w in record.waves) or "no waves yet"
        yield passed(f"{record.table}#{_key(record.key)}", f"record {record.status}: {waves}")
        return
    place = snap.topology.record_place()
    tables = [place.table] if place and place.table else _shared_tables(snap)
    table = record.table if record else (tables[0] if tables else "the execution-history table")
    unread = snap.missing("tables", table) if record is None else None
    if unread is not None:  # the table could not be described, so the record was never looked for
        yield error(table, f"the record could not be looked for: {unread.describe()}")
        return
    yield fail(snap.target, f"no record of this execution in {table}: the finder has nothing to poll",
               evidence=place.evidence if place else [],
               shows=RECORD_MISSING, explains=EXECUTION_STUCK, fix={"table": table})


def _shared_tables(snap: Snapshot) -> list[str]:
    """Without a topology (a Snapshot built by hand): the tables the orchestrator's functions share, most
    shared first."""
    known = Known(tables=set(snap.region_table_names) | {t.name for t in snap.tables})
    counts = Counter(table for f in snap.functions_of_kind("orchestration", "finder", "poller")
                     for table in named_tables(f, known))
    return [table for table, _ in counts.most_common()]


def _key(key: dict[str, str]) -> str:
    return ",".join(f"{name}={value}" for name, value in sorted(key.items()))
