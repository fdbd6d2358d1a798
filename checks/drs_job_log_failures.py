"""DRS002: the DRS job logs have no failure events (each failure with its server and reason)."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._fixes import launch_failure_fix

from drsdoctor.checkapi import HIGH, MECHANISM, SERVERS_NOT_LAUNCHED, Finding, check, fail, passed, skip
from drsdoctor.snapshot import JobLogItem, Snapshot


def is_failure(item: JobLogItem) -> bool:
    return item.event.endswith(("_FAIL", "_FAILED")) or item.event == "JOB_CANCEL"


@check(id="DRS002", service="drs", severity=HIGH, layer=MECHANISM, plan_step="drs-permissions",
       title="The DRS job logs show no launch failures",
       remediation="The command for what the first failure reports: its replication (aws drs "
                   "retry-data-replication), a permission (aws iam put-role-policy), a quota, or its "
                   "launch settings",
       reads=("job_log_items",))
def job_log_failures(snap: Snapshot) -> Iterator[Finding]:
    if not snap.job_log_items:
        yield skip(snap.target, "no DRS job log items were read")
        return
    for job_id, items in sorted(snap.job_log_items.items()):
        if not items:
            yield skip(job_id, f"DRS returned no log items for job {job_id}")
            continue
        failures = [item for item in items if is_failure(item)]
        if not failures:
            yield passed(job_id, f"job {job_id}: {len(items)} log items, no failure")
            continue
        evidence = [_line(item) for item in failures[:10]]
        first = failures[0]
        server = str(first.details.get("sourceServerID") or "a server")
        reason = str(first.details.get("rawError") or "no reason given")
        denied = any("not authorized" in line or "AccessDenied" in line for line in evidence)
        hint = " (a permission the launch needs is missing)" if denied else ""
        yield fail(job_id, f"job {job_id}: {len(failures)} failure event(s); first {first.event} for "
                           f"{server}: {reason[:200]}{hint}", evidence=evidence, shows=SERVERS_NOT_LAUNCHED,
                   explains=SERVERS_NOT_LAUNCHED,
                   fix=launch_failure_fix(snap, server, reason, job_id))


def _line(item: JobLogItem) -> str:
    when = item.time.isoformat() if item.time else "?"
    server = item.details.get("sourceServerID", "")
    reason = item.details.get("rawError", "")
    return f"{when} {item.event} {server} {reason}".strip()
