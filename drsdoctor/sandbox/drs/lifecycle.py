"""The timeline of a DRS job: which log events happen when, planned when the job is accepted.

A LAUNCH job per server: (CLEANUP of the previous recovery instance), SNAPSHOT, CONVERSION, LAUNCH, all
servers in parallel; JOB_END when the last one is done. A caller lacking a follow-on permission gets
JOB_START, SNAPSHOT_START, SNAPSHOT_END, JOB_END and every server FAILED, within seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from drsdoctor.sandbox.drs.entities import IdMaker, Job, SourceServer, Step

if TYPE_CHECKING:
    from drsdoctor.sandbox.drs.model import Phases


def plan_launch(job: Job, servers: Mapping[str, SourceServer], skipped: list[str], phases: Phases,
                order: Callable[[], int], new_id: IdMaker) -> None:
    def at(offset: float, kind: str, sid: str | None = None, **extra: str) -> None:
        job.steps.append(Step(job.created_at + timedelta(seconds=offset), order(), kind, sid, extra))

    start = phases.pending
    at(start, "job_start")
    for sid in skipped:
        at(start, "server_skipped", sid)
    if job.denied_actions:
        for participant in job.servers:
            at(start, "snapshot_start", participant.source_server_id)
        for participant in job.servers:
            at(start + phases.denied, "snapshot_end", participant.source_server_id)
        at(start + phases.denied, "fail_all")
        at(start + phases.denied, "job_end")
        return
    end = start
    for participant in job.servers:
        sid = participant.source_server_id
        clock = start
        previous = servers[sid].recovery_instance_id
        if previous is not None:
            at(clock, "cleanup_start", sid, instance=previous)
            clock += phases.cleanup
            at(clock, "cleanup_end", sid, instance=previous)
        conversion, target = new_id("i-"), new_id("i-")
        at(clock, "snapshot_start", sid)
        clock += phases.snapshot
        at(clock, "snapshot_end", sid)
        at(clock, "conversion_start", sid, conversion=conversion)
        clock += phases.conversion
        at(clock, "conversion_end", sid, conversion=conversion)
        at(clock, "launch_start", sid, instance=target)
        clock += phases.launch
        at(clock, "launch_end", sid, instance=target)
        end = max(end, clock)
    at(end, "job_end")


def plan_terminate(job: Job, phases: Phases, order: Callable[[], int]) -> None:
    def at(offset: float, kind: str, sid: str | None = None, **extra: str) -> None:
        job.steps.append(Step(job.created_at + timedelta(seconds=offset), order(), kind, sid, extra))

    start = phases.pending
    at(start, "job_start")
    for participant in job.servers:
        instance = participant.recovery_instance_id or ""
        at(start, "terminate_start", participant.source_server_id, instance=instance)
        at(start + phases.terminate, "terminate_end", participant.source_server_id, instance=instance)
    at(start + phases.terminate, "job_end")
