"""DRS: the wave's jobs, their log items, their source servers and recovery instances.

At scale (10 waves of 200 servers) every listing is paged with nextToken and every id filter is split at
DRS's limit, the parts asked at once: one DescribeJobs for up to 1000 jobs, DescribeJobLogItems per job (never
per server), DescribeSourceServers and DescribeRecoveryInstances per 200 servers. Executions diagnosed side by
side (`diagnose --running`) ask those three once for all of them (Together).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from drsdoctor.collect.gather import Gatherer, Memo
from drsdoctor.snapshot import DrsJob, ExecutionRecord, JobLogItem, JobServer, RecoveryInstance, SourceServer

JOB_FILTER_LIMIT = 1000  # DescribeJobs filters.jobIDs: at most 1000 ids
SERVER_FILTER_LIMIT = 200  # DescribeSourceServers and DescribeRecoveryInstances filters: at most 200 ids
PAGE_SIZE = 1000  # maxResults asked for; DRS documents no maximum and may answer with fewer
MAX_PAGES = 50  # a bound, never reached by a plan DRS can run: a 500-server job logs ~4,500 items


T = TypeVar("T")
S = TypeVar("S", SourceServer, RecoveryInstance)


def chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[start:start + size] for start in range(0, len(ids), size)]


class Together:
    """The DRS reads of a group of executions collected side by side: every id any of them wants (`want`,
    before the reads begin) is asked for in one read, and each execution takes its own part of the answer.
    One DescribeJobs for the group's jobs, one DescribeSourceServers and DescribeRecoveryInstances for its
    servers, instead of one of each per execution. A read that fails, fails for each execution that wanted
    it (each records its own fact error)."""

    def __init__(self) -> None:
        self._wanted: dict[tuple[str, str], set[str]] = {}
        self._answers = Memo()

    def want(self, kind: str, region: str, ids: Iterable[str]) -> None:
        self._wanted.setdefault((kind, region), set()).update(ids)

    def answer(self, kind: str, region: str, ids: list[str],
               describe: Callable[[list[str]], list[T]]) -> list[T]:
        """The group's answer: `describe` asked once, for every id wanted (sorted). Ids the group did not
        want are asked for on their own, as without a group."""
        wanted = self._wanted.get((kind, region), set())
        if not wanted.issuperset(ids):
            return describe(sorted(ids))
        return self._answers.once(f"{kind} {region}", lambda: describe(sorted(wanted)))

    def read(self, kind: str, region: str, ids: list[str], describe: Callable[[list[str]], list[T]],
             key: Callable[[T], str]) -> list[T]:
        """The items among the group's answer whose key is one of `ids`, in the answer's order."""
        mine = set(ids)
        return [item for item in self.answer(kind, region, ids, describe) if key(item) in mine]


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


def jobs(gather: Gatherer, region: str, job_ids: list[str], since: datetime | None,
         together: Together | None = None, servers: Iterable[str] = ()) -> list[DrsJob]:
    """The jobs by id; with no id known, the jobs started since the execution began (one page) that launch
    one of `servers` (the record's waves' servers) when the record names any: a job of other servers is
    another run's, however close its start (fifty plans started together share one DRS)."""
    ours = set(servers)

    def mine(job: DrsJob) -> bool:
        return not ours or not job.servers or any(server.source_server_id in ours for server in job.servers)

    def by_filter(filters: dict[str, Any], pages: int) -> list[DrsJob]:
        found: list[DrsJob] = []
        named = ",".join(filters.get("jobIDs", [])) or "jobs"
        for page in gather.pages("drs", "describe_jobs", named, "nextToken", "nextToken", max_pages=pages,
                                 region=region, filters=filters, maxResults=PAGE_SIZE):
            found.extend(_job(item) for item in page.get("items", []))
        return found

    def by_ids(ids: list[str]) -> list[DrsJob]:
        parts = gather.in_parallel([partial(by_filter, {"jobIDs": part}, MAX_PAGES)
                                    for part in chunks(ids, JOB_FILTER_LIMIT)])
        return [job for part in parts for job in part]

    def describe() -> list[DrsJob]:
        if job_ids and together is not None:
            return together.read("jobs", region, job_ids, by_ids, lambda job: job.job_id)
        if job_ids:
            return by_ids(job_ids)
        if since is None:
            return []
        if together is None:
            return [job for job in by_filter({"fromDate": stamp(since)}, 1) if mine(job)]
        # the jobs since the group's earliest start; this execution's are those since its own
        started = together.answer("jobs since", region, [stamp(since)],
                                  lambda stamps: by_filter({"fromDate": stamps[0]}, 1))
        began = since.replace(microsecond=0)
        return [job for job in started
                if (job.creation_time is None or job.creation_time >= began) and mine(job)]

    return gather.fact("drs_jobs", ",".join(job_ids), describe) or []


def stamp(moment: datetime) -> str:
    """A DescribeJobs fromDate (ISO 8601, whole seconds): such texts sort as their moments do."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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


def source_servers(gather: Gatherer, region: str, server_ids: list[str],
                   together: Together | None = None) -> list[SourceServer]:
    return _per_server(gather, region, server_ids, together, "servers", "source_servers",
                       "describe_source_servers", _server)


def _server(item: dict[str, Any]) -> SourceServer:
    hints = item.get("sourceProperties", {}).get("identificationHints", {})
    launched = item.get("lastLaunchResult")
    return SourceServer(source_server_id=item.get("sourceServerID", ""), hostname=hints.get("hostname", ""),
                        replication_state=item.get("dataReplicationInfo", {}).get("dataReplicationState", ""),
                        last_launch_status=launched, recovery_instance_id=item.get("recoveryInstanceId"))


def recovery_instances(gather: Gatherer, region: str, server_ids: list[str],
                       together: Together | None = None) -> list[RecoveryInstance]:
    return _per_server(gather, region, server_ids, together, "instances", "recovery_instances",
                       "describe_recovery_instances", _instance)


def _instance(item: dict[str, Any]) -> RecoveryInstance:
    return RecoveryInstance(recovery_instance_id=item.get("recoveryInstanceID", ""),
                            source_server_id=item.get("sourceServerID", ""),
                            ec2_instance_id=item.get("ec2InstanceID"),
                            state=item.get("ec2InstanceState", ""), job_id=item.get("jobID"))


def _per_server(gather: Gatherer, region: str, server_ids: list[str], together: Together | None, kind: str,
                fact: str, operation: str, parse: Callable[[dict[str, Any]], S]) -> list[S]:
    """A listing filtered by source server: the ids split at DRS's limit, the parts asked at once and
    paged; with `together`, the group's one read (its `kind`). Each item has its source_server_id."""
    def describe_part(part: list[str]) -> list[S]:
        found: list[S] = []
        for page in gather.pages("drs", operation, fact.replace("_", " "), "nextToken", "nextToken",
                                 max_pages=MAX_PAGES, region=region, filters={"sourceServerIDs": part},
                                 maxResults=PAGE_SIZE):
            found.extend(parse(item) for item in page.get("items", []))
        return found

    def by_ids(ids: list[str]) -> list[S]:
        parts = gather.in_parallel([partial(describe_part, part)
                                    for part in chunks(ids, SERVER_FILTER_LIMIT)])
        return [item for part in parts for item in part]

    def describe() -> list[S]:
        if together is not None:
            return together.read(kind, region, server_ids, by_ids, lambda item: item.source_server_id)
        return by_ids(server_ids)

    return (gather.fact(fact, ",".join(server_ids), describe) or []) if server_ids else []


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
