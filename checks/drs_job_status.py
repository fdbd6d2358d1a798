"""DRS001: the wave's DRS jobs launched every server (job status and per-server launch status)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from drsdoctor.checks._common import ago
from drsdoctor.checks._fixes import launch_failure_fix, put_role_policy, read_errors

from drsdoctor.checkapi import (
    HIGH,
    SERVERS_NOT_LAUNCHED,
    SYMPTOM,
    WAVE_NOT_STARTED,
    Finding,
    check,
    fail,
    now_of,
    passed,
    skip,
    warn,
)
from drsdoctor.fixes import Remedy, command, remedy
from drsdoctor.snapshot import Snapshot

SLOW_JOB = timedelta(minutes=45)  # a launch job still running after this is worth a look
NAMED = 10  # servers named in a message: a 200-server job's full list would bury the one that failed


def named(server_ids: list[str], limit: int = NAMED) -> str:
    """The first `limit` server ids, and how many more: short on a job of 200 servers."""
    more = f" and {len(server_ids) - limit} more" if len(server_ids) > limit else ""
    return ", ".join(server_ids[:limit]) + more


def failed_launch_fix(snap: Snapshot, job_id: str) -> Remedy:
    """The fix for the first failure the job's log reports; else, the follow-on actions the orchestration
    role is denied (DRS launches with its credentials) granted; else the command that reads the log."""
    for item in snap.job_log_items.get(job_id, []):
        if item.event.endswith(("_FAIL", "_FAILED")):
            server = str(item.details.get("sourceServerID") or "")
            if server:
                return launch_failure_fix(snap, server, str(item.details.get("rawError") or ""), job_id)
    role = snap.role("orchestration")
    denied = [d for d in role.denied() if d.follow_on and d.decision != "explicitDeny"] if role else []
    if role is not None and denied:
        return put_role_policy(role.role_arn, "orchestration", denied, snap.account)
    return remedy(command("aws", "drs", "describe-job-log-items", "--job-id", job_id),
                  note="the job's log names why its servers did not launch")


def _start_fix(snap: Snapshot) -> Remedy | str:
    function = snap.function_of_kind("orchestration")
    if function is None:
        return "Check the orchestration function's logs for the StartRecovery error"
    return read_errors(function.name)


def status_counts(statuses: dict[str, str]) -> str:
    """LAUNCHED 199, FAILED 1: a job's servers counted by launch status."""
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{status} {count}" for status, count in sorted(counts.items()))


@check(id="DRS001", service="drs", severity=HIGH, layer=SYMPTOM, plan_step="drs-permissions",
       title="The wave's DRS jobs launched every server",
       remediation="aws drs describe-job-log-items --job-id {job}",
       reads=("drs_jobs", "execution_record"))
def job_status(snap: Snapshot) -> Iterator[Finding]:
    record = snap.execution_record
    recorded = [wave.job_id for wave in (record.waves if record else []) if wave.job_id]
    if not snap.drs_jobs:
        started = [w for w in (record.waves if record else []) if w.status not in ("PENDING", "")]
        if started and not recorded:
            yield fail(snap.target, f"wave {started[0].number} is {started[0].status} but no DRS job was "
                                    "created for it", shows=WAVE_NOT_STARTED,
                       fix=_start_fix(snap))
        elif recorded:
            yield fail(snap.target, f"the record names job(s) {', '.join(recorded)} that DRS does not know",
                       shows=WAVE_NOT_STARTED, fix={"job": recorded[0]})
        else:
            yield skip(snap.target, "no DRS job for this execution yet")
        return
    now = now_of(snap)
    for job in snap.drs_jobs:
        if not job.servers:
            yield skip(job.job_id, f"job {job.job_id} ({job.status or 'no status'}) lists no servers")
            continue
        statuses = {server.source_server_id: server.launch_status for server in job.servers}
        failed = sorted(s for s, status in statuses.items() if status == "FAILED")
        launched = sorted(s for s, status in statuses.items() if status == "LAUNCHED")
        # every server that has not launched, by name; the launched ones only counted
        unlaunched = [f"{s} {status}" for s, status in sorted(statuses.items()) if status != "LAUNCHED"]
        summary = "; ".join(filter(None, [status_counts(statuses), named(unlaunched, 50)]))
        if failed:
            yield fail(job.job_id, f"job {job.job_id} is {job.status}: {len(failed)} of {len(statuses)} "
                                   f"server(s) FAILED to launch ({named(failed)})",
                       evidence=[summary], shows=SERVERS_NOT_LAUNCHED,
                       fix=failed_launch_fix(snap, job.job_id))
        elif job.status != "COMPLETED" and job.creation_time and now - job.creation_time > SLOW_JOB:
            yield warn(job.job_id, f"job {job.job_id} is still {job.status}, created "
                                   f"{ago(now, job.creation_time)}", evidence=[summary],
                       fix={"job": job.job_id})
        else:
            yield passed(job.job_id, f"job {job.job_id} {job.status}: {len(launched)} of {len(statuses)} "
                                     "server(s) launched")
