"""DRS: the wave's jobs, their log items, their source servers and recovery instances.

At scale (10 waves of 200 servers) every listing is paged with nextToken and every id filter is split at
DRS's limit, the parts asked at once: one DescribeJobs for up to 1000 jobs, DescribeJobLogItems per job (never
per server), DescribeSourceServers and DescribeRecoveryInstances per 200 servers.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import DrsJob, ExecutionRecord, JobLogItem, JobServer, RecoveryInstance, SourceServer

JOB_FILTER_LIMIT = 1000  # DescribeJobs filters.jobIDs: at most 1000 ids
SERVER_FILTER_LIMIT = 200  # DescribeSourceServers and DescribeRecoveryInstances filters: at most 200 ids
PAGE_SIZE = 1000  # maxResults asked for; DRS documents no maximum and may answer with fewer
MAX_PAGES = 50  # a bound, never reached by a plan DRS can run: a 500-server job logs ~4,500 items


def chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def servers_to_describe(jobs: list[DrsJob], record: ExecutionRecord | None,
                        wave_servers: list[str]) -> list[str]:
    """The source servers whose details explain the execution: the current wave's, and every server whose
    latest launch did not succeed. A finished wave's launched servers are told by their job; describing
    all of a 2,000-server plan's would triple diagnose's time and add nothing a check reads. With no record
    to name the current wave, every server the jobs and waves name."""
    current = record.current_wave() if record is not None and record.exists else None
    if current is None:
        named = [server.source_server_id for job in jobs for server in job.servers]
        return list(dict.fromkeys(named + wave_servers))
    latest: dict[str, str] = {}
    oldest_first = sorted(jobs, key=lambda job: job.creation_time.timestamp() if job.creation_time else 0.0)
    for job in oldest_first:
        for server in job.servers:
            latest[server.source_server_id] = server.launch_status
    unlaunched = [server for server, status in latest.items() if status != "LAUNCHED"]
    return list(dict.fromkeys(current.server_ids + unlaunched))


def jobs_to_read(jobs: list[DrsJob], record: ExecutionRecord | None) -> list[DrsJob]:
    """The jobs whose log items explain the execution: the current wave's, and every job that has not ended
    with all its servers launched. A finished job that launched every server logged only its successes:
    reading the ten such jobs of a 2,000-server plan (10,000 items) would triple diagnose's time. With no
    record to name the current wave, every job."""
    current = record.current_wave() if record is not None and record.exists else None
    if current is None:
        return list(jobs)
    in_wave = set(current.server_ids)

    def explains(job: DrsJob) -> bool:
        unlaunched = any(server.launch_status != "LAUNCHED" for server in job.servers)
        return (job.status != "COMPLETED" or unlaunched or not job.servers
                or any(server.source_server_id in in_wave for server in job.servers))

    return [job for job in jobs if explains(job)]


def jobs(gather: Gatherer, region: str, job_ids: list[str], since: datetime | None) -> list[DrsJob]:
    """The jobs by id; with no id known, the jobs started since the execution began (one page)."""
    def by_filter(filters: dict[str, Any], pages: int) -> list[DrsJob]:
        found: list[DrsJob] = []
        for page in gather.pages("drs", "describe_jobs", ",".join(job_ids) or "jobs", "nextToken",
                                 "nextToken", max_pages=pages, region=region, filters=filters,
                                 maxResults=PAGE_SIZE):
            found.extend(_job(item) for item in page.get("items", []))
        return found

    def describe() -> list[DrsJob]:
        if job_ids:
            parts = gather.in_parallel([partial(by_filter, {"jobIDs": part}, MAX_PAGES)
                                        for part in chunks(job_ids, JOB_FILTER_LIMIT)])
            return [job for part in parts for job in part]
        if since is None:
            return []
        return by_filter({"fromDate": since.strftime("%Y-%m-%dT%H:%M:%SZ")}, 1)

    return gather.fact("drs_jobs", ",".join(job_ids), describe) or []


def _job(item: dict[str, Any]) -> DrsJob:
    servers = [JobServer(source_server_id=server.get("sourceServerID", ""),
                         launch_status=server.get("launchStatus", "PENDING"),
                         recovery_instance_id=server.get("recoveryInstanceID"))
               for server in item.get("participatingServers", [])]
    return DrsJob(job_id=item["jobID"], status=item.get("status", ""), type=item.get("type", "LAUNCH"),
                  initiated_by=item.get("initiatedBy", ""), arn=item.get("arn", ""),
                  creation_time=_date(item.get("creationDateTime")), end_time=_date(item.get("endDateTime")),
                  servers=servers)


def log_items(gather: Gatherer, region: str, job_id: str) -> list[JobLogItem] | None:
    def describe() -> list[JobLogItem]:
        found: list[JobLogItem] = []
        for page in gather.pages("drs", "describe_job_log_items", job_id, "nextToken", "nextToken",
                                 max_pages=MAX_PAGES, region=region, jobID=job_id, maxResults=PAGE_SIZE):
            found.extend(JobLogItem(event=item.get("event", ""), time=_date(item.get("logDateTime")),
                                    details=dict(item.get("eventData") or {}))
                         for item in page.get("items", []))
        return found

    return gather.fact("job_log_items", job_id, describe)


def source_servers(gather: Gatherer, region: str, server_ids: list[str]) -> list[SourceServer]:
    def describe_part(part: list[str]) -> list[SourceServer]:
        found: list[SourceServer] = []
        for page in gather.pages("drs", "describe_source_servers", "source servers", "nextToken",
                                 "nextToken", max_pages=MAX_PAGES, region=region,
                                 filters={"sourceServerIDs": part}, maxResults=PAGE_SIZE):
            found.extend(_server(item) for item in page.get("items", []))
        return found

    def describe() -> list[SourceServer]:
        parts = gather.in_parallel([partial(describe_part, part)
                                    for part in chunks(server_ids, SERVER_FILTER_LIMIT)])
        return [server for part in parts for server in part]

    return (gather.fact("source_servers", ",".join(server_ids), describe) or []) if server_ids else []


def _server(item: dict[str, Any]) -> SourceServer:
    hints = item.get("sourceProperties", {}).get("identificationHints", {})
    launched = item.get("lastLaunchResult")
    return SourceServer(source_server_id=item.get("sourceServerID", ""), hostname=hints.get("hostname", ""),
                        replication_state=item.get("dataReplicationInfo", {}).get("dataReplicationState", ""),
                        last_launch_status=launched, recovery_instance_id=item.get("recoveryInstanceId"))


def recovery_instances(gather: Gatherer, region: str, server_ids: list[str]) -> list[RecoveryInstance]:
    def describe_part(part: list[str]) -> list[RecoveryInstance]:
        found: list[RecoveryInstance] = []
        for page in gather.pages("drs", "describe_recovery_instances", "recovery instances", "nextToken",
                                 "nextToken", max_pages=MAX_PAGES, region=region,
                                 filters={"sourceServerIDs": part}, maxResults=PAGE_SIZE):
            found.extend(RecoveryInstance(
                recovery_instance_id=item.get("recoveryInstanceID", ""),
                source_server_id=item.get("sourceServerID", ""),
                ec2_instance_id=item.get("ec2InstanceID"),
                state=item.get("ec2InstanceState", ""), job_id=item.get("jobID"))
                for item in page.get("items", []))
        return found

    def describe() -> list[RecoveryInstance]:
        parts = gather.in_parallel([partial(describe_part, part)
                                    for part in chunks(server_ids, SERVER_FILTER_LIMIT)])
        return [instance for part in parts for instance in part]

    return (gather.fact("recovery_instances", ",".join(server_ids), describe) or []) if server_ids else []


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
