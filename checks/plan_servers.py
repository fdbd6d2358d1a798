"""PLN002: every CRITICAL server of the plan's steps launched; an OPTIONAL one that did not is said apart.

A step's job, each server's launch status and impact level, the job's LAUNCH_FAILED log items and the source
server's replication: a CRITICAL server that did not launch stops the plan; an OPTIONAL one never does, so it
is a warning and never outranks a CRITICAL failure as the cause.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from drsdoctor.checkapi import (
    CAUSE,
    HIGH,
    LOW,
    MECHANISM,
    SERVERS_NOT_LAUNCHED,
    Finding,
    check,
    error,
    fail,
    passed,
    skip,
    warn,
)
from drsdoctor.snapshot import JobLogItem, Snapshot

FAILED_EVENTS = ("_FAIL", "_FAILED")


@check(
    id="PLN002",
    service="drs",
    severity=HIGH,
    layer=MECHANISM,
    title="Every CRITICAL server of the recovery plan's steps launched",
    remediation="{fix}",
    reads=("recovery_plan", "drs_jobs", "job_log_items", "source_servers"),
)
def plan_servers(snap: Snapshot) -> Iterator[Finding]:
    run = snap.recovery_plan
    if run is None:
        return
    started = [step for step in run.steps if step.job_ids()]
    if not started:
        yield skip(run.arn, "no step of this execution has started a DRS job yet")
        return
    replication = {server.source_server_id: server.replication_state for server in snap.source_servers}
    hosts = {
        server.source_server_id: f"{server.hostname} ({server.source_server_id})"
        for server in snap.source_servers
        if server.hostname
    }
    for step in started:
        for job_id in step.job_ids():
            job = snap.job(job_id)
            if job is None:
                yield error(
                    job_id,
                    f"step {step.index} ({step.name}) names job {job_id}, which DescribeJobs did not return",
                )
                continue
            launched = {server.source_server_id: server.launch_status for server in job.servers}
            log = snap.job_log_items.get(job_id, [])
            for server in (s for s in step.servers if s.job_id == job_id):
                sid = server.source_server_id
                named = hosts.get(sid, sid)
                status = launched.get(sid, "not in the job")
                if status == "LAUNCHED" or (job.status != "COMPLETED" and status != "FAILED"):
                    continue
                reasons = _reasons(log, sid)
                why = (
                    reasons[0]
                    if reasons
                    else (
                        f"replication {replication[sid]}"
                        if replication.get(sid) not in (None, "", "CONTINUOUS")
                        else "the job log names no reason"
                    )
                )
                evidence = [
                    f"job {job_id} {job.status}; {sid} launchStatus {status}",
                    *reasons[:5],
                    f"replication {replication.get(sid) or 'not read'}",
                ]
                retry = ("aws drs retry-recovery-plan-execution-step "
                         f"--recovery-plan-execution-step-arn {step.arn}")
                if server.impact == "OPTIONAL":
                    yield warn(
                        sid,
                        f"OPTIONAL server {named} of step {step.index} ({step.name}) did not launch "
                        f"({status}): {why[:200]}; an OPTIONAL server does not stop the plan",
                        evidence=evidence,
                        severity=LOW,
                        fix={
                            "fix": f"Recover it alone once fixed: aws drs start-recovery "
                            f"--source-servers sourceServerID={sid}"
                            f"{' --is-drill' if run.mode == 'DRILL' else ''}"
                        },
                    )
                    continue
                known = bool(reasons) or replication.get(sid) not in (None, "", "CONTINUOUS")
                found = fail(
                    sid,
                    f"CRITICAL server {named} of step {step.index} ({step.name}) did not launch "
                    f"({status}) in job {job_id}: {why[:300]}",
                    evidence=evidence,
                    shows=SERVERS_NOT_LAUNCHED,
                    explains=SERVERS_NOT_LAUNCHED if known else (),
                    fix={"fix": f"Fix what stopped {named} ({why[:300]}), then: {retry}"},
                )
                # a reason DRS gave (the log, the replication) is the cause; none: only what happened
                yield dataclasses.replace(found, layer=CAUSE if known else MECHANISM)
            if all(
                launched.get(s.source_server_id) == "LAUNCHED" for s in step.servers if s.job_id == job_id
            ):
                yield passed(job_id, f"step {step.index} ({step.name}): job {job_id} launched every server")


def _reasons(log: list[JobLogItem], source_server_id: str) -> list[str]:
    """The job log's failure events for the server, each with DRS's raw error."""
    return [
        f"{item.event}: {item.details.get('rawError') or 'no rawError'}"
        for item in log
        if item.event.endswith(FAILED_EVENTS) and item.details.get("sourceServerID") == source_server_id
    ]
