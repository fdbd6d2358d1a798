"""DDB001: the execution has its record in the execution-history table (what the finder and poller read)."""

from __future__ import annotations

from collections.abc import Iterator

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
)
from drsdoctor.snapshot import Snapshot


@check(id="DDB001", service="dynamodb", severity=HIGH, layer=MECHANISM, plan_step="transitions",
       title="The execution record exists in the execution-history table",
       remediation="Check that the orchestration function writes to {table} (its EXECUTION_TABLE) and that "
                   "BeginPlan succeeded",
       reads=("execution_record",))
def execution_record(snap: Snapshot) -> Iterator[Finding]:
    record = snap.execution_record
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
    tables = sorted({value for f in snap.functions_of_kind("orchestration", "finder", "poller")
                     for name, value in f.environment.items() if name == "EXECUTION_TABLE"})
    table = record.table if record else (tables[0] if tables else "the execution-history table")
    unread = snap.missing("tables", table) if record is None else None
    if unread is not None:  # the table could not be described, so the record was never looked for
        yield error(table, f"the record could not be looked for: {unread.describe()}")
        return
    yield fail(snap.target, f"no record of this execution in {table}: the finder has nothing to poll",
               evidence=[f"EXECUTION_TABLE values: {', '.join(tables)}"] if tables else [],
               shows=RECORD_MISSING, explains=EXECUTION_STUCK, fix={"table": table})


def _key(key: dict[str, str]) -> str:
    return ",".join(f"{name}={value}" for name, value in sorted(key.items()))
