"""DRS at a large plan's size: its limits (200 servers a job, 20 jobs and 500 servers in progress), its
pages, and diagnose's DRS collector reading 450 servers in batched, paged calls that name the one failing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.collect import drs as collect_drs
from drsdoctor.collect.gather import Gatherer
from drsdoctor.sandbox.drs.model import Phases
from drsdoctor.snapshot import DrsJob, ExecutionRecord, JobServer, Snapshot, WaveRecord
from tests.checks.builders import findings

JOB_SECONDS = Phases().pending + Phases().snapshot + Phases().conversion + Phases().launch
TARGET = "arn:aws:states:us-east-1:123456789012:execution:drs-orchestrator-dev-recovery:run-1"


def servers(model, count, prefix="host"):
    return [model.add_source_server(f"{prefix}-{n}").source_server_id for n in range(count)]


def start(drs, ids):
    return drs.start_recovery(sourceServers=[{"sourceServerID": sid} for sid in ids])["job"]


def quota_code(error: ClientError) -> str:
    assert error.response["Error"]["Code"] == "ServiceQuotaExceededException"
    return str(error.response["quotaCode"])


def test_start_recovery_takes_at_most_200_servers(drs, model):
    ids = servers(model, 201)
    with pytest.raises(ClientError) as refused:
        start(drs, ids)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "at most 200" in refused.value.response["Error"]["Message"]
    assert len(start(drs, ids[:200])["participatingServers"]) == 200


def test_no_more_than_500_servers_are_in_active_jobs_until_jobs_end(drs, model, clock):
    ids = servers(model, 600)
    start(drs, ids[:200])
    start(drs, ids[200:400])
    with pytest.raises(ClientError) as refused:
        start(drs, ids[400:600])
    assert quota_code(refused.value) == "L-05AFA8C6"
    assert len(start(drs, ids[400:500])["participatingServers"]) == 100  # exactly 500 fits

    clock.advance(JOB_SECONDS + 1)  # the jobs end: the quota counts only jobs in progress
    assert start(drs, ids[500:600])["status"] == "PENDING"


def test_no_more_than_20_jobs_run_at_once(drs, model, clock):
    ids = servers(model, 21)
    for sid in ids[:20]:
        start(drs, [sid])
    with pytest.raises(ClientError) as refused:
        start(drs, ids[20:])
    assert quota_code(refused.value) == "L-D88FAC3A"
    clock.advance(JOB_SECONDS + 1)
    start(drs, ids[20:])


def test_a_200_server_job_log_comes_in_pages_however_much_is_asked(drs, model, clock):
    job = start(drs, servers(model, 200))
    clock.advance(JOB_SECONDS + 1)
    first = drs.describe_job_log_items(jobID=job["jobID"], maxResults=5000)
    assert len(first["items"]) == 1000 and first["nextToken"]  # a page of DRS's size, not 5000

    paged = [item for page in drs.get_paginator("describe_job_log_items").paginate(jobID=job["jobID"])
             for item in page["items"]]
    assert len(paged) == 2 + 200 * 5  # JOB_START, JOB_END, and five events for each server (to LAUNCH_START)
    assert [item["event"] for item in paged][:1] == ["JOB_START"] and paged[-1]["event"] == "JOB_END"
    assert len({(item["event"], item["eventData"].get("sourceServerID")) for item in paged}) == len(paged)


def test_a_filter_of_200_source_servers_pages_through_only_those(drs, model):
    wanted = servers(model, 200, "wave")
    servers(model, 50, "other")
    pages = list(drs.get_paginator("describe_source_servers").paginate(
        filters={"sourceServerIDs": wanted}, PaginationConfig={"PageSize": 64}))
    assert [len(page["items"]) for page in pages] == [64, 64, 64, 8]
    assert [item["sourceServerID"] for page in pages for item in page["items"]] == wanted


def test_the_collector_reads_450_servers_in_batched_paged_calls_and_names_the_failing_one(
        drs, model, clock, endpoint, monkeypatch):
    ids = servers(model, 450)
    failing = ids[321]
    model.set_outcome(failing, "FAILED", "Instance launch failed: InsufficientInstanceCapacity")
    job_ids = [start(drs, part)["jobID"] for part in (ids[:200], ids[200:400], ids[400:])]
    clock.advance(JOB_SECONDS + 1)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATOR000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    session = AwsSession(AwsSettings(region="us-east-1", endpoint_url=endpoint))
    snap = Snapshot(target=TARGET, region="us-east-1", collected_at=datetime.now(timezone.utc))
    gather = Gatherer(session, snap, "us-east-1")

    snap.drs_jobs = collect_drs.jobs(gather, "us-east-1", job_ids, None)
    snap.job_log_items = {job: collect_drs.log_items(gather, "us-east-1", job) or [] for job in job_ids}
    snap.source_servers = collect_drs.source_servers(gather, "us-east-1", ids)
    snap.recovery_instances = collect_drs.recovery_instances(gather, "us-east-1", ids)

    calls: dict[str, int] = {}
    for record in session.call_log.records:
        calls[record.operation] = calls.get(record.operation, 0) + 1
    # one call for the jobs, each job's log in pages (1,002 and 252 items), servers and instances per 200
    assert calls == {"DescribeJobs": 1, "DescribeJobLogItems": 5, "DescribeSourceServers": 3,
                     "DescribeRecoveryInstances": 3}
    assert sorted(len(job.servers) for job in snap.drs_jobs) == [50, 200, 200]
    assert sum(len(items) for items in snap.job_log_items.values()) == 3 * 2 + 450 * 5 + 1  # LAUNCH_FAILED
    assert {server.source_server_id for server in snap.source_servers} == set(ids)
    assert len(snap.recovery_instances) == 449 and not snap.fact_errors

    job_status = [f for f in findings("DRS001", snap) if f.status == "fail"]
    assert len(job_status) == 1 and f"1 of 200 server(s) FAILED to launch ({failing})" in job_status[0].detail
    assert len(job_status[0].evidence[0]) < 200  # 199 launched servers counted, not listed
    log_failures = [f for f in findings("DRS002", snap) if f.status == "fail"]
    assert len(log_failures) == 1 and f"LAUNCH_FAILED for {failing}" in log_failures[0].detail


def launch_job(job_id: str, hour: int, statuses: dict[str, str]) -> DrsJob:
    servers = [JobServer(source_server_id=sid, launch_status=status) for sid, status in statuses.items()]
    created = datetime(2026, 1, 7, hour, tzinfo=timezone.utc)
    return DrsJob(job_id=job_id, status="COMPLETED", creation_time=created, servers=servers)


def test_diagnose_describes_the_current_wave_and_every_server_that_did_not_launch():
    first = {f"s-{n:017x}": "LAUNCHED" for n in range(200)}
    first["s-00000000000000007"] = "FAILED"  # failed in wave 1's first job, launched on its retry below
    first["s-00000000000000009"] = "FAILED"
    second = {f"s-{n:017x}": "LAUNCHED" if n != 250 else "FAILED" for n in range(200, 400)}
    jobs = [launch_job("drsjob-00000000000000002", 11, second),
            launch_job("drsjob-00000000000000001", 10, first),
            launch_job("drsjob-00000000000000003", 12, {"s-00000000000000007": "LAUNCHED"})]
    waves = [WaveRecord(1, "COMPLETED", server_ids=list(first)),
             WaveRecord(2, "FAILED", server_ids=list(second))]
    record = ExecutionRecord(table="history", status="FAILED", waves=waves, item={"currentWave": 1})

    wanted = collect_drs.servers_to_describe(jobs, record, [s for w in waves for s in w.server_ids])

    assert wanted == [*second, "s-00000000000000009"]  # wave 2's, and wave 1's server that never launched
    unknown = collect_drs.servers_to_describe(jobs, None, ["s-0000000000000ffff"])
    assert len(unknown) == 401 and unknown[-1] == "s-0000000000000ffff"  # no record: every server named


def test_diagnose_reads_the_logs_of_the_current_wave_and_of_every_job_that_did_not_launch_all():
    done = launch_job("drsjob-00000000000000001", 10, {"s-00000000000000001": "LAUNCHED"})
    partly = launch_job("drsjob-00000000000000002", 11, {"s-00000000000000002": "FAILED",
                                                         "s-00000000000000003": "LAUNCHED"})
    current = launch_job("drsjob-00000000000000003", 12, {"s-00000000000000004": "LAUNCHED"})
    running = launch_job("drsjob-00000000000000004", 12, {"s-00000000000000005": "IN_PROGRESS"})
    running.status = "STARTED"
    waves = [WaveRecord(1, "COMPLETED", server_ids=["s-00000000000000001"]),
             WaveRecord(2, "COMPLETED", server_ids=["s-00000000000000002", "s-00000000000000003"]),
             WaveRecord(3, "POLLING", server_ids=["s-00000000000000004", "s-00000000000000005"])]
    record = ExecutionRecord(table="history", status="POLLING", waves=waves, item={"currentWave": 2})
    jobs = [done, partly, current, running]

    assert collect_drs.jobs_to_read(jobs, record) == [partly, current, running]
    assert collect_drs.jobs_to_read(jobs, None) == jobs  # no record to name the current wave: every job
