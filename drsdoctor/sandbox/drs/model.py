"""DrsModel: DRS's state and rules (servers, jobs and their lifecycle) in pure Python, on an injected clock.

The wire layer (wire.py) turns HTTP into calls here; nothing here knows about HTTP.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from drsdoctor.sandbox.drs.ec2 import Ec2Instances
from drsdoctor.sandbox.drs.entities import (
    DrsServiceError,
    IdMaker,
    Job,
    JobLogItem,
    ParticipatingServer,
    RecoveryInstance,
    SourceServer,
    Step,
    page,
    validation_error,
)
from drsdoctor.sandbox.drs.lifecycle import plan_launch, plan_terminate

REPLICATION_STATES = ("STOPPED", "INITIATING", "INITIAL_SYNC", "BACKLOG", "CREATING_SNAPSHOT", "CONTINUOUS",
                      "PAUSED", "RESCAN", "STALLED", "DISCONNECTED")
OUTCOMES = ("LAUNCHED", "FAILED")


@dataclass(frozen=True)
class Quotas:
    """DRS's service quotas a recovery meets (neither adjustable): jobs in progress, and source servers in
    all of them; StartRecovery beyond either answers ServiceQuotaExceededException."""

    concurrent_jobs: int = 20  # L-D88FAC3A
    servers_in_all_jobs: int = 500  # L-05AFA8C6


MAX_SERVERS_PER_JOB = 200  # StartRecovery's sourceServers: 1 to 200 items


@dataclass(frozen=True)
class Phases:
    """Simulated seconds each part of a job takes (defaults are near what DRS takes for a small server)."""

    pending: float = 5
    cleanup: float = 30
    snapshot: float = 60
    conversion: float = 120
    launch: float = 60
    denied: float = 5  # a denied follow-on action ends the job within seconds
    terminate: float = 30


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DrsModel:
    """One account's DRS in one region. Reads first apply every step the clock has passed."""

    def __init__(self, *, region: str = "us-east-1", account_id: str = "123456789012",
                 now: Callable[[], datetime] = _utcnow, phases: Phases | None = None,
                 seed: int | None = None, quotas: Quotas | None = None) -> None:
        self.region, self.account_id = region, account_id
        self.phases = phases or Phases()
        self.quotas = quotas or Quotas()
        self.initialized = True  # False: every call answers UninitializedAccountException
        self._now = now
        self._new_id = IdMaker(seed)  # a seed makes every id repeat from run to run
        self.lock = threading.RLock()  # the wire layer holds it while it reads objects out
        self._seq = itertools.count(1)
        self._servers: dict[str, SourceServer] = {}
        self._jobs: dict[str, Job] = {}
        self._instances: dict[str, RecoveryInstance] = {}
        self.ec2: Ec2Instances | None = None  # set: recovery instances are launched in moto's EC2 too

    # -- seeding (the sandbox's API) ---------------------------------------------------------------
    def add_source_server(self, hostname: str, *, replication: str = "CONTINUOUS",
                          tags: dict[str, str] | None = None,
                          staging_account_id: str | None = None) -> SourceServer:
        _check_choice(replication, REPLICATION_STATES, "replication")
        with self.lock:
            server_id = self._new_id("s-")
            now = self._now()
            server = SourceServer(
                source_server_id=server_id, arn=self.arn("source-server", server_id), hostname=hostname,
                replication=replication, tags=dict(tags or {}), added_at=now, seq=next(self._seq),
                aws_instance_id=self._new_id("i-"), origin_account_id=self.account_id,
                origin_region=self.region, staging_account_id=staging_account_id,
                stalled_since=now if replication == "STALLED" else None)
            self._servers[server_id] = server
            return server

    def set_outcome(self, source_server_id: str, outcome: str, reason: str | None = None) -> None:
        """How the server's next launches end: LAUNCHED, or FAILED with `reason` as LAUNCH_FAILED rawError."""
        _check_choice(outcome, OUTCOMES, "outcome")
        with self.lock:
            server = self._server(source_server_id)
            server.outcome = outcome
            server.failure_reason = reason if outcome == "FAILED" else None

    def set_replication(self, source_server_id: str, state: str) -> None:
        _check_choice(state, REPLICATION_STATES, "replication")
        with self.lock:
            server = self._server(source_server_id)
            if state == "STALLED" and server.replication != "STALLED":
                server.stalled_since = self._now()
            elif state != "STALLED":
                server.stalled_since = None
            server.replication = state

    def source_server(self, source_server_id: str) -> SourceServer:
        with self.lock:
            return self._server(source_server_id)

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def find_source_server(self, source_server_id: str) -> SourceServer | None:
        return self._servers.get(source_server_id)

    def arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:drs:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def now(self) -> datetime:
        return self._now()

    # -- the clock --------------------------------------------------------------------------------
    def advance(self) -> None:
        """Apply, in time order, every scheduled step of every job that the clock has passed."""
        with self.lock:
            now = self._now()
            due = [(step, job) for job in self._jobs.values() for step in job.steps if step.at <= now]
            if not due:
                return
            for job in {id(job): job for _, job in due}.values():
                job.steps = [step for step in job.steps if step.at > now]
            for step, job in sorted(due, key=lambda pair: pair[0]):
                self._apply(job, step)

    # -- DRS API ----------------------------------------------------------------------------------
    def start_recovery(self, source_server_ids: list[str], *, is_drill: bool = False,
                       tags: dict[str, str] | None = None, denied_actions: Iterable[str] = (),
                       at: datetime | None = None) -> Job:
        """Accept a LAUNCH job; `denied_actions` are follow-on actions the caller may not perform; `at`: when
        it was asked (a recovery plan's step that began before the clock was last read), default now."""
        with self.lock:
            self._enter()
            if not 1 <= len(source_server_ids) <= MAX_SERVERS_PER_JOB:
                raise validation_error(f"sourceServers must have 1 to {MAX_SERVERS_PER_JOB} items",
                                       "sourceServers")
            active = self._active_jobs()
            launching = {s.source_server_id for job in active if job.type == "LAUNCH" for s in job.servers}
            busy = [sid for sid in source_server_ids if sid in launching]
            if busy:
                raise DrsServiceError(
                    "ConflictException", f"Source server {busy[0]} is already participating in another job",
                    resourceId=busy[0], resourceType="SOURCE_SERVER")
            ordered = list(dict.fromkeys(source_server_ids))
            self._check_quotas(active, len(ordered))
            known = [sid for sid in ordered if sid in self._servers]
            initiated_by = "START_DRILL" if is_drill else "START_RECOVERY"
            job = self._new_job("LAUNCH", initiated_by, is_drill, tags, known, at)
            job.denied_actions = list(denied_actions)
            for sid in known:
                server = self._servers[sid]
                server.last_launch_job_id, server.last_launch_at = job.job_id, job.created_at
                server.last_launch_drill, server.last_launch_result = is_drill, "PENDING"
                server.last_launch_status = "PENDING"
            skipped = [sid for sid in ordered if sid not in self._servers]
            plan_launch(job, self._servers, skipped, self.phases, self._order, self._new_id)
            return job

    def terminate_recovery_instances(self, recovery_instance_ids: list[str]) -> Job:
        with self.lock:
            self._enter()
            ordered = list(dict.fromkeys(recovery_instance_ids))
            missing = [iid for iid in ordered if iid not in self._instances]
            if missing:
                raise validation_error(f"Recovery instance {missing[0]} does not exist",
                                       "recoveryInstanceIDs")
            leaving = [iid for iid in ordered if self._instances[iid].state != "RUNNING"]
            if leaving:
                raise DrsServiceError(
                    "ConflictException", f"Recovery instance {leaving[0]} is already terminating",
                    resourceId=leaving[0], resourceType="RECOVERY_INSTANCE")
            instances = [self._instances[iid] for iid in ordered]
            self._check_quotas(self._active_jobs(), len(instances))
            job = self._new_job("TERMINATE", "TERMINATE_RECOVERY_INSTANCES", False, None,
                                [instance.source_server_id for instance in instances])
            for participant, instance in zip(job.servers, instances, strict=True):
                participant.recovery_instance_id = instance.recovery_instance_id
            plan_terminate(job, self.phases, self._order)
            return job

    def describe_jobs(self, *, job_ids: list[str] | None = None, from_date: datetime | None = None,
                      to_date: datetime | None = None, max_results: int | None = None,
                      next_token: str | None = None) -> tuple[list[Job], str | None]:
        """Jobs newest first; an empty or absent jobIDs list means every job."""
        with self.lock:
            self._enter()
            wanted = set(job_ids or ())
            jobs = [job for job in sorted(self._jobs.values(), key=lambda j: j.seq, reverse=True)
                    if (not wanted or job.job_id in wanted)
                    and (from_date is None or job.created_at >= from_date)
                    and (to_date is None or job.created_at <= to_date)]
            return page(jobs, lambda j: j.seq, max_results, next_token, newest_first=True)

    def describe_job_log_items(self, job_id: str, *, max_results: int | None = None,
                               next_token: str | None = None) -> tuple[list[JobLogItem], str | None]:
        """A job's log in the order DRS wrote it; an unknown job has an empty log."""
        with self.lock:
            self._enter()
            job = self._jobs.get(job_id)
            return page(job.log if job else [], lambda item: item.seq, max_results, next_token)

    def describe_source_servers(self, *, source_server_ids: list[str] | None = None,
                                hardware_id: str | None = None, staging_account_ids: list[str] | None = None,
                                max_results: int | None = None,
                                next_token: str | None = None) -> tuple[list[SourceServer], str | None]:
        with self.lock:
            self._enter()
            ids, staging = set(source_server_ids or ()), set(staging_account_ids or ())
            servers = [s for s in self._servers.values()
                       if (not ids or s.source_server_id in ids)
                       and (not hardware_id or s.aws_instance_id == hardware_id)
                       and (not staging or s.staging_account_id in staging)]
            return page(servers, lambda s: s.seq, max_results, next_token)

    def describe_recovery_instances(
            self, *, recovery_instance_ids: list[str] | None = None,
            source_server_ids: list[str] | None = None, max_results: int | None = None,
            next_token: str | None = None,
    ) -> tuple[list[RecoveryInstance], str | None]:
        with self.lock:
            self._enter()
            ids, sources = set(recovery_instance_ids or ()), set(source_server_ids or ())
            instances = [i for i in self._instances.values()
                         if (not ids or i.recovery_instance_id in ids)
                         and (not sources or i.source_server_id in sources)]
            return page(instances, lambda i: i.seq, max_results, next_token)

    def list_tags(self, arn: str) -> dict[str, str]:
        with self.lock:
            self.advance()
            return dict(self._tags_of(arn))

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        with self.lock:
            self.advance()
            self._tags_of(arn).update(tags)

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        with self.lock:
            self.advance()
            tags = self._tags_of(arn)
            for key in keys:
                tags.pop(key, None)

    # -- internals --------------------------------------------------------------------------------
    def _enter(self) -> None:
        if not self.initialized:
            raise DrsServiceError("UninitializedAccountException", "Account not initialized")
        self.advance()

    def _order(self) -> int:
        return next(self._seq)

    def _server(self, source_server_id: str) -> SourceServer:
        try:
            return self._servers[source_server_id]
        except KeyError:
            raise KeyError(f"no source server {source_server_id} in the DRS model") from None

    def _active_jobs(self) -> list[Job]:
        return [job for job in self._jobs.values() if job.status != "COMPLETED"]

    def _check_quotas(self, active: list[Job], servers: int) -> None:
        """A new job of `servers` servers must fit both quotas beside the jobs still in progress."""
        if len(active) >= self.quotas.concurrent_jobs:
            raise DrsServiceError(
                "ServiceQuotaExceededException",
                f"Cannot start a job: {len(active)} jobs are in progress, the quota is "
                f"{self.quotas.concurrent_jobs}", quotaCode="L-D88FAC3A", resourceType="JOB",
                serviceCode="drs")
        in_jobs = sum(len(job.servers) for job in active)
        if in_jobs + servers > self.quotas.servers_in_all_jobs:
            raise DrsServiceError(
                "ServiceQuotaExceededException",
                f"Cannot start a job of {servers} source servers: {in_jobs} are in active jobs, the quota is "
                f"{self.quotas.servers_in_all_jobs}", quotaCode="L-05AFA8C6", resourceType="SOURCE_SERVER",
                serviceCode="drs")

    def _new_job(self, kind: str, initiated_by: str, is_drill: bool, tags: dict[str, str] | None,
                 source_server_ids: list[str], at: datetime | None = None) -> Job:
        job_id = self._new_id("drsjob-")
        job = Job(job_id=job_id, arn=self.arn("job", job_id), type=kind, initiated_by=initiated_by,
                  created_at=at or self._now(), seq=next(self._seq), is_drill=is_drill, tags=dict(tags or {}),
                  servers=[ParticipatingServer(sid) for sid in source_server_ids])
        self._jobs[job_id] = job
        return job

    def _tags_of(self, arn: str) -> dict[str, str]:
        resources: list[SourceServer | Job | RecoveryInstance] = [
            *self._servers.values(), *self._jobs.values(), *self._instances.values()]
        for resource in resources:
            if resource.arn == arn:
                return resource.tags
        raise DrsServiceError("ResourceNotFoundException", f"Resource {arn} not found", resourceId=arn)

    def _log(self, job: Job, step: Step, event: str, **data: str | None) -> None:
        values = {key: value for key, value in data.items() if value is not None}
        job.log.append(JobLogItem(step.at, event, values, seq=len(job.log)))

    def _status(self, job: Job, source_server_id: str, status: str) -> None:
        job.server(source_server_id).launch_status = status
        server = self._servers.get(source_server_id)
        if server is not None and job.type == "LAUNCH" and server.last_launch_job_id == job.job_id:
            server.last_launch_status = status
            if status in ("LAUNCHED", "FAILED"):
                server.last_launch_result = "SUCCEEDED" if status == "LAUNCHED" else "FAILED"

    def _apply(self, job: Job, step: Step) -> None:
        sid, extra = step.source_server_id, step.extra
        if step.kind == "job_start":
            job.status = "STARTED"
            self._log(job, step, "JOB_START")
        elif step.kind == "job_end":
            job.status, job.ended_at = "COMPLETED", step.at
            self._log(job, step, "JOB_END")
        elif step.kind == "fail_all":
            for participant in job.servers:
                self._status(job, participant.source_server_id, "FAILED")
        elif step.kind == "server_skipped":
            self._log(job, step, "SERVER_SKIPPED", sourceServerID=sid)
        elif sid is not None:
            self._apply_server_step(job, step, sid, extra)

    def _apply_server_step(self, job: Job, step: Step, sid: str, extra: dict[str, str]) -> None:
        kind = step.kind
        if kind in ("cleanup_start", "terminate_start"):
            self._status(job, sid, "IN_PROGRESS")
            instance = self._instances.get(extra["instance"])
            if instance is not None:
                instance.state = "SHUTTING-DOWN"
            self._log(job, step, "CLEANUP_START", sourceServerID=sid, targetInstanceID=extra["instance"])
        elif kind in ("cleanup_end", "terminate_end"):
            if self._instances.pop(extra["instance"], None) is not None and self.ec2 is not None:
                self.ec2.terminate(self.region, extra["instance"])
            server = self._servers.get(sid)
            if server is not None and server.recovery_instance_id == extra["instance"]:
                server.recovery_instance_id = None
            if kind == "terminate_end":
                self._status(job, sid, "TERMINATED")
            self._log(job, step, "CLEANUP_END", sourceServerID=sid, targetInstanceID=extra["instance"])
        elif kind == "snapshot_start":
            self._status(job, sid, "IN_PROGRESS")
            self._log(job, step, "SNAPSHOT_START", sourceServerID=sid)
        elif kind == "snapshot_end":
            job.snapshots[sid] = step.at
            self._log(job, step, "SNAPSHOT_END", sourceServerID=sid)
        elif kind in ("conversion_start", "conversion_end"):
            event = "CONVERSION_START" if kind == "conversion_start" else "CONVERSION_END"
            self._log(job, step, event, sourceServerID=sid, conversionServerID=extra["conversion"])
        elif kind == "launch_start":
            self._log(job, step, "LAUNCH_START", sourceServerID=sid, targetInstanceID=extra["instance"])
        elif kind == "launch_end":
            self._finish_launch(job, step, self._servers[sid], extra["instance"])

    def _finish_launch(self, job: Job, step: Step, server: SourceServer, instance_id: str) -> None:
        """The outcome is read when the launch ends, so a fault injected mid-job still counts."""
        sid = server.source_server_id
        if server.replication == "STALLED" or server.outcome == "FAILED":
            reason = server.failure_reason or (
                f"Failed to launch recovery instance: data replication of source server {sid} is "
                f"{server.replication}; no consistent point-in-time snapshot is available")
            self._status(job, sid, "FAILED")
            self._log(job, step, "LAUNCH_FAILED", sourceServerID=sid, rawError=reason)
            return
        self._instances[instance_id] = RecoveryInstance(
            recovery_instance_id=instance_id, arn=self.arn("recovery-instance", instance_id),
            source_server_id=sid, job_id=job.job_id, is_drill=job.is_drill, launched_at=step.at,
            snapshot_at=job.snapshots.get(sid, step.at), seq=next(self._seq), tags=dict(server.tags),
            volume_id=self._new_id("vol-", 8))
        if self.ec2 is not None:
            self.ec2.launch(self.region, instance_id, sid, dict(server.tags))
        job.server(sid).recovery_instance_id = instance_id
        server.recovery_instance_id = instance_id
        self._status(job, sid, "LAUNCHED")


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {value!r}")
