"""DDB002: the current wave's status is known and moving: not UNKNOWN, not unchanged for many polls."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import (
    at,
    poll_interval,
    polled,
    progress_mode,
    record_drives,
    terminal,
)

from drsdoctor.checkapi import (
    CRITICAL,
    SYMPTOM,
    WAVE_STATUS_STALE,
    Finding,
    check,
    fail,
    now_of,
    passed,
    skip,
)
from drsdoctor.snapshot import Snapshot

STALE_POLLS = 5  # the wave status should move within this many poll intervals
UNKNOWN = {"UNKNOWN", ""}


@check(id="DDB002", service="dynamodb", severity=CRITICAL, layer=SYMPTOM, plan_step="transitions",
       title="The wave status is known and being updated",
       remediation="See the mechanism and cause findings: the poller is what writes {table}'s wave status",
       reads=("execution_record",))
def wave_status(snap: Snapshot) -> Iterator[Finding]:
    record = snap.execution_record
    if record is None or not record.exists:
        yield skip(snap.target, "no execution record (see DDB001)")
        return
    if not record_drives(snap):
        yield skip(snap.target, f"progress is {progress_mode(snap)}: the machine reads its wave status "
                                f"from its own state, not from {record.table}")
        return
    wave = record.current_wave()
    where = f"{record.table}#{','.join(f'{k}={v}' for k, v in sorted(record.key.items()))}"
    if wave is None:
        yield skip(where, f"the record ({record.status}) has no waves")
        return
    fix = {"table": record.table}
    if terminal(snap, record.status):
        yield passed(where, f"the execution record is {record.status}; wave {wave.number} {wave.status}")
        return
    now, interval = now_of(snap), poll_interval(snap)
    changed = wave.updated_at or record.updated_at
    age = f" since {at(now, changed)}" if changed else ""
    if wave.status.upper() in UNKNOWN:
        # the record says when it was last written, not since when it says UNKNOWN (the poller rewrites it)
        written = f", last written at {at(now, changed)}" if changed else ""
        yield fail(where, f"wave {wave.number} status is {wave.status or 'empty'}{written}",
                   evidence=[f"record status {record.status}, job {wave.job_id or '(none)'}"],
                   shows=WAVE_STATUS_STALE, fix=fix)
        return
    if changed and (now - changed).total_seconds() > STALE_POLLS * interval and polled(record.status):
        yield fail(where, f"wave {wave.number} status {wave.status} has not changed{age}: "
                          f"{int((now - changed).total_seconds() // interval)} poll intervals of {interval}s",
                   shows=WAVE_STATUS_STALE, fix=fix)
        return
    yield passed(where, f"wave {wave.number} is {wave.status}{age}")
