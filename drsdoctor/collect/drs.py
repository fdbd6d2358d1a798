"""DRS: the wave's jobs, their log items, their source servers and recovery instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import DrsJob, JobLogItem, JobServer, RecoveryInstance, SourceServer

DRS_FILTER_LIMIT = 200  # DescribeJobs and DescribeSourceServers take at most 200 ids a filter


def jobs(gather: Gatherer, region: str, job_ids: list[str], since: datetime | None) -> list[DrsJob]:
    """The jobs by id; with no id known, the jobs started since the execution began (one page)."""
    def by_filter(filters: dict[str, Any], pages: int) -> list[DrsJob]:
        found: list[DrsJob] = []
        for page in gather.pages("drs", "describe_jobs", ",".join(job_ids) or "jobs", "nextToken",
                                 "nextToken", max_pages=pages, region=region, filters=filters):
            found.extend(_job(item) for item in page.get("items", []))
        return found

    def describe() -> list[DrsJob]:
        if job_ids:
            found: list[DrsJob] = []
            for start in range(0, len(job_ids), DRS_FILTER_LIMIT):
                found.extend(by_filter({"jobIDs": job_ids[start:start + DRS_FILTER_LIMIT]}, 10))
            return found
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
                                 max_pages=10, region=region, jobID=job_id):
            found.extend(JobLogItem(event=item.get("event", ""), time=_date(item.get("logDateTime")),
                                    details=dict(item.get("eventData") or {}))
                         for item in page.get("items", []))
        return found

    return gather.fact("job_log_items", job_id, describe)


def source_servers(gather: Gatherer, region: str, server_ids: list[str]) -> list[SourceServer]:
    def describe() -> list[SourceServer]:
        found: list[SourceServer] = []
        for start in range(0, len(server_ids), DRS_FILTER_LIMIT):
            for page in gather.pages("drs", "describe_source_servers", "source servers", "nextToken",
                                     "nextToken", max_pages=10, region=region,
                                     filters={"sourceServerIDs": server_ids[start:start + DRS_FILTER_LIMIT]}):
                found.extend(_server(item) for item in page.get("items", []))
        return found

    return (gather.fact("source_servers", ",".join(server_ids), describe) or []) if server_ids else []


def _server(item: dict[str, Any]) -> SourceServer:
    hints = item.get("sourceProperties", {}).get("identificationHints", {})
    launched = item.get("lastLaunchResult")
    return SourceServer(source_server_id=item.get("sourceServerID", ""), hostname=hints.get("hostname", ""),
                        replication_state=item.get("dataReplicationInfo", {}).get("dataReplicationState", ""),
                        last_launch_status=launched, recovery_instance_id=item.get("recoveryInstanceId"))


def recovery_instances(gather: Gatherer, region: str, server_ids: list[str]) -> list[RecoveryInstance]:
    def describe() -> list[RecoveryInstance]:
        found: list[RecoveryInstance] = []
        for start in range(0, len(server_ids), DRS_FILTER_LIMIT):
            for page in gather.pages("drs", "describe_recovery_instances", "recovery instances", "nextToken",
                                     "nextToken", max_pages=10, region=region,
                                     filters={"sourceServerIDs": server_ids[start:start + DRS_FILTER_LIMIT]}):
                found.extend(RecoveryInstance(
                    recovery_instance_id=item.get("recoveryInstanceID", ""),
                    source_server_id=item.get("sourceServerID", ""),
                    ec2_instance_id=item.get("ec2InstanceID"),
                    state=item.get("ec2InstanceState", ""), job_id=item.get("jobID"))
                    for item in page.get("items", []))
        return found

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
