"""A recovery seen through a real boto3 client: jobs, servers, log items and recovery instances over time."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from drsdoctor.sandbox.drs.model import DrsModel, Phases
from drsdoctor.sandbox.drs.wire import DrsWireApp


def start(drs, *servers, drill=False):
    return drs.start_recovery(sourceServers=[{"sourceServerID": s.source_server_id} for s in servers],
                              isDrill=drill, tags={"wave": "1"})["job"]


def job_of(drs, job_id):
    [job] = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]
    return job


def events(drs, job_id):
    return [item["event"] for item in drs.describe_job_log_items(jobID=job_id)["items"]]


def logged(drs, job_id, event):
    return [item for item in drs.describe_job_log_items(jobID=job_id)["items"] if item["event"] == event]


def statuses(job):
    return {p["sourceServerID"]: p["launchStatus"] for p in job["participatingServers"]}


def test_job_moves_pending_started_completed_and_servers_launch(drs, model, clock):
    db, app = model.add_source_server("db01"), model.add_source_server("app01")
    job = start(drs, db, app)
    assert re.fullmatch(r"drsjob-[0-9a-f]{17}", job["jobID"])
    assert job["arn"] == f"arn:aws:drs:us-east-1:123456789012:job/{job['jobID']}"
    assert (job["status"], job["type"], job["initiatedBy"]) == ("PENDING", "LAUNCH", "START_RECOVERY")
    assert set(statuses(job).values()) == {"PENDING"}

    clock.advance(5)
    assert job_of(drs, job["jobID"])["status"] == "STARTED"
    clock.advance(60)
    assert set(statuses(job_of(drs, job["jobID"])).values()) == {"IN_PROGRESS"}
    clock.advance(180)
    done = job_of(drs, job["jobID"])
    assert done["status"] == "COMPLETED"
    assert done["endDateTime"] == "2026-01-07T10:04:05.000000Z"
    assert set(statuses(done).values()) == {"LAUNCHED"}
    assert all(re.fullmatch(r"i-[0-9a-f]{17}", p["recoveryInstanceID"]) for p in done["participatingServers"])
    assert events(drs, job["jobID"]) == [
        "JOB_START", "SNAPSHOT_START", "SNAPSHOT_START", "SNAPSHOT_END", "CONVERSION_START", "SNAPSHOT_END",
        "CONVERSION_START", "CONVERSION_END", "LAUNCH_START", "CONVERSION_END", "LAUNCH_START", "JOB_END"]


def test_launched_servers_have_running_recovery_instances(drs, model, clock):
    db = model.add_source_server("db01", tags={"app": "erp"})
    job = start(drs, db, drill=True)
    clock.advance(600)
    [instance] = drs.describe_recovery_instances()["items"]
    assert instance["recoveryInstanceID"] == instance["ec2InstanceID"]
    assert (instance["sourceServerID"], instance["jobID"]) == (db.source_server_id, job["jobID"])
    assert (instance["isDrill"], instance["ec2InstanceState"]) == (True, "RUNNING")
    assert instance["pointInTimeSnapshotDateTime"] == "2026-01-07T10:01:05.000000Z"
    [server] = drs.describe_source_servers()["items"]
    assert server["recoveryInstanceId"] == instance["recoveryInstanceID"]
    assert server["lastLaunchResult"] == "SUCCEEDED"
    assert server["lifeCycle"]["lastLaunch"]["initiated"] == {
        "apiCallDateTime": "2026-01-07T10:00:00.000000Z", "jobID": job["jobID"], "type": "DRILL"}
    assert job_of(drs, job["jobID"])["initiatedBy"] == "START_DRILL"


def test_stalled_server_fails_with_launch_failed(drs, model, clock):
    healthy = model.add_source_server("web01")
    stalled = model.add_source_server("web02", replication="STALLED")
    job = start(drs, healthy, stalled)
    clock.advance(600)
    done = job_of(drs, job["jobID"])
    assert statuses(done) == {healthy.source_server_id: "LAUNCHED", stalled.source_server_id: "FAILED"}
    failed = logged(drs, job["jobID"], "LAUNCH_FAILED")
    assert [f["eventData"]["sourceServerID"] for f in failed] == [stalled.source_server_id]
    assert "STALLED" in failed[0]["eventData"]["rawError"]
    servers = {s["sourceServerID"]: s for s in drs.describe_source_servers()["items"]}
    assert servers[stalled.source_server_id]["dataReplicationInfo"]["dataReplicationState"] == "STALLED"
    assert servers[stalled.source_server_id]["lastLaunchResult"] == "FAILED"
    instances = drs.describe_recovery_instances()["items"]
    assert [i["sourceServerID"] for i in instances] == [healthy.source_server_id]


def test_configured_failure_is_logged_with_its_reason(drs, model, clock):
    server = model.add_source_server("db01")
    model.set_outcome(server.source_server_id, "FAILED", reason="InsufficientInstanceCapacity for m5.large")
    job = start(drs, server)
    clock.advance(600)
    [failed] = logged(drs, job["jobID"], "LAUNCH_FAILED")
    assert failed["eventData"]["rawError"] == "InsufficientInstanceCapacity for m5.large"
    assert statuses(job_of(drs, job["jobID"])) == {server.source_server_id: "FAILED"}


def test_phase_durations_are_configurable(clock, serve, client_for):
    model = DrsModel(now=clock, phases=Phases(pending=1, snapshot=2, conversion=3, launch=4))
    drs = client_for(serve(DrsWireApp(model)))
    job = start(drs, model.add_source_server("db01"))
    clock.advance(9)
    assert job_of(drs, job["jobID"])["status"] == "STARTED"
    clock.advance(1)
    assert job_of(drs, job["jobID"])["status"] == "COMPLETED"


def test_second_start_while_a_job_runs_is_a_conflict(drs, model, clock):
    server = model.add_source_server("db01")
    start(drs, server)
    with pytest.raises(ClientError) as caught:
        start(drs, server)
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    clock.advance(600)
    assert start(drs, server)["status"] == "PENDING"


def test_relaunch_cleans_up_the_previous_recovery_instance(drs, model, clock):
    server = model.add_source_server("db01")
    start(drs, server)
    clock.advance(600)
    [first] = drs.describe_recovery_instances()["items"]
    again = start(drs, server)
    clock.advance(600)
    assert events(drs, again["jobID"])[:3] == ["JOB_START", "CLEANUP_START", "CLEANUP_END"]
    [second] = drs.describe_recovery_instances()["items"]
    assert second["recoveryInstanceID"] != first["recoveryInstanceID"]
    assert second["jobID"] == again["jobID"]


def test_terminate_starts_a_terminate_job_and_removes_instances(drs, model, clock):
    server = model.add_source_server("db01")
    start(drs, server)
    clock.advance(600)
    [instance] = drs.describe_recovery_instances()["items"]
    job = drs.terminate_recovery_instances(recoveryInstanceIDs=[instance["recoveryInstanceID"]])["job"]
    assert (job["type"], job["initiatedBy"]) == ("TERMINATE", "TERMINATE_RECOVERY_INSTANCES")
    clock.advance(10)
    [leaving] = drs.describe_recovery_instances()["items"]
    assert leaving["ec2InstanceState"] == "SHUTTING-DOWN"
    clock.advance(60)
    assert drs.describe_recovery_instances()["items"] == []
    assert statuses(job_of(drs, job["jobID"])) == {server.source_server_id: "TERMINATED"}
    assert events(drs, job["jobID"]) == ["JOB_START", "CLEANUP_START", "CLEANUP_END", "JOB_END"]
    assert "recoveryInstanceId" not in drs.describe_source_servers()["items"][0]


def test_unknown_source_server_is_skipped(drs, model, clock):
    server = model.add_source_server("db01")
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server.source_server_id},
                                            {"sourceServerID": "s-00000000000000000"}])["job"]
    assert list(statuses(job)) == [server.source_server_id]
    clock.advance(600)
    skipped = logged(drs, job["jobID"], "SERVER_SKIPPED")
    assert [s["eventData"]["sourceServerID"] for s in skipped] == ["s-00000000000000000"]


def test_an_outcome_changed_mid_job_counts_at_launch(drs, model, clock):
    server = model.add_source_server("db01")
    job = start(drs, server)
    clock.advance(100)
    model.set_replication(server.source_server_id, "STALLED")
    clock.advance(500)
    assert statuses(job_of(drs, job["jobID"])) == {server.source_server_id: "FAILED"}
