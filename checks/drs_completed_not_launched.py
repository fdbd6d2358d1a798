"""DRS003: no job COMPLETED without launching a server: the signature of missing follow-on permissions.

DRS launches recovery instances with the credentials of whoever called StartRecovery. When that role
lacks drs:CreateRecoveryInstanceForDrs or the EC2 actions, the call succeeds, the job runs to
COMPLETED, and every server's launchStatus is FAILED.
"""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks.drs_job_status import failed_launch_fix, named

from drsdoctor.checkapi import (
    CRITICAL,
    EXECUTION_FAILED,
    EXECUTION_STUCK,
    MECHANISM,
    SERVERS_NOT_LAUNCHED,
    WAVE_STATUS_STALE,
    Finding,
    check,
    fail,
    passed,
    skip,
)
from drsdoctor.snapshot import Snapshot


@check(id="DRS003", service="drs", severity=CRITICAL, layer=MECHANISM, plan_step="drs-permissions",
       title="No DRS job completed without launching its servers",
       remediation="Grant the orchestration role drs:CreateRecoveryInstanceForDrs and the EC2 launch actions "
                   "(check IAM001), then start the wave again",
       reads=("drs_jobs",))
def completed_not_launched(snap: Snapshot) -> Iterator[Finding]:
    completed = [job for job in snap.drs_jobs if job.status == "COMPLETED"]
    if not completed:
        yield skip(snap.target, "no completed DRS job")
        return
    for job in completed:
        if not job.servers:
            yield passed(job.job_id, f"job {job.job_id} COMPLETED with no servers to launch")
            continue
        if any(server.launch_status == "LAUNCHED" for server in job.servers):
            yield passed(job.job_id, f"job {job.job_id} COMPLETED and launched servers")
            continue
        statuses = named([f"{s.source_server_id} {s.launch_status}" for s in job.servers], 50)
        yield fail(job.job_id, f"job {job.job_id} is COMPLETED but none of its {len(job.servers)} server(s) "
                               "launched: DRS could not do the launch with the caller's credentials",
                   evidence=[statuses], shows=SERVERS_NOT_LAUNCHED,
                   explains=(EXECUTION_FAILED, EXECUTION_STUCK, WAVE_STATUS_STALE),
                   fix=failed_launch_fix(snap, job.job_id))
