"""Execution-poller of the reference DRS wave orchestrator (Lambda handler: execution_poller.handler).

Invoked (asynchronously, by the execution-finder) with {"executionId": ...}. Asks DRS about the
current wave's job(s) with DescribeJobs and DescribeJobLogItems and writes the wave's status:
POLLING, LAUNCHING, COMPLETED, FAILED (with the failure log items' reasons), or UNKNOWN when the job
cannot be read (the error and its code are logged). It owns each wave's status fields only and writes
them with a condition (the execution is still POLLING on this wave), so it never undoes the
orchestration function's updates. Runs on Python 3.10+ with nothing but boto3.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

try:  # imported as part of drsdoctor (tests)
    from . import drs_calls
except ImportError:  # on Lambda the zip's root is on sys.path
    import drs_calls  # type: ignore[no-redef]

THROTTLING_CODES = drs_calls.THROTTLING_CODES
FAILED_EVENTS = {"SNAPSHOT_FAIL", "CONVERSION_FAIL", "LAUNCH_FAILED", "CLEANUP_FAIL",
                 "USING_PREVIOUS_SNAPSHOT_FAILED", "DEPLOY_NETWORK_CONFIGURATION_FAILED",
                 "UPDATE_NETWORK_CONFIGURATION_FAILED",
                 "UPDATE_LAUNCH_TEMPLATE_FAILED", "NETWORK_RECOVERY_FAIL", "JOB_CANCEL", "SERVER_SKIPPED"}
MAX_REASONS = 25  # keeps the record far below DynamoDB's 400 KB item limit on a large wave


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON line per event: operators and drsdoctor search these logs."""
    line = {"level": level, "function": "execution-poller", "message": message, **fields}
    print(json.dumps(line, default=str))


def now_iso() -> str:
    return datetime.fromtimestamp(time.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def describe_jobs(drs: Any, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = {}
    for batch in drs_calls.chunks(job_ids, drs_calls.MAX_JOB_IDS_PER_CALL):
        for page in drs.get_paginator("describe_jobs").paginate(filters={"jobIDs": batch}):
            for job in page.get("items", []):
                jobs[job["jobID"]] = job
    return jobs


def job_log_items(drs: Any, execution_id: str, job_id: str) -> list[dict[str, Any]]:
    """The job's log; when it cannot be read the status still can, only the reasons go missing."""
    items: list[dict[str, Any]] = []
    try:
        for page in drs.get_paginator("describe_job_log_items").paginate(jobID=job_id):
            items.extend(page.get("items", []))
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        if code in THROTTLING_CODES:
            raise
        log("ERROR", "cannot read the job's log items; failure reasons will be missing",
            executionId=execution_id, jobId=job_id, errorCode=code, error=str(error))
    return items


def failure_reason(item: dict[str, Any]) -> str:
    data = item.get("eventData") or {}
    server = data.get("sourceServerID", "job")
    raw = data.get("rawError") or "no error text"
    return f"{server}: {item.get('event')}: {raw}"[:1000]


def wave_outcome(jobs: dict[str, dict[str, Any]], logs: dict[str, list[dict[str, Any]]],
                 expected: list[str] | None = None) -> tuple[str, list[str]]:
    """The wave's status from its jobs and their log items, with the reasons when it failed."""
    servers = [server for job in jobs.values() for server in job.get("participatingServers", [])]
    reasons = [failure_reason(item) for job_id in jobs for item in logs.get(job_id, [])
               if item.get("event") in FAILED_EVENTS]
    failed = [(server.get("sourceServerID"), f"launchStatus {server.get('launchStatus')}")
              for server in servers if server.get("launchStatus") in ("FAILED", "TERMINATED")]
    participating = {server.get("sourceServerID") for server in servers}
    failed += [(sid, "not in the wave's jobs") for sid in expected or [] if sid not in participating]
    for server_id, what in failed:
        if not any(reason.startswith(f"{server_id}:") for reason in reasons):
            reasons.append(f"{server_id}: {what}")
    if failed:
        return "FAILED", reasons[:MAX_REASONS]
    all_done = all(job.get("status") == "COMPLETED" for job in jobs.values())
    if all_done and servers and all(server.get("launchStatus") == "LAUNCHED" for server in servers):
        return "COMPLETED", []
    if all_done:  # the job ended but not every server launched: it will never finish by itself
        stuck = [f"{server.get('sourceServerID')}: launchStatus {server.get('launchStatus')} at the job's end"
                 for server in servers if server.get("launchStatus") != "LAUNCHED"]
        stuck = stuck or ["the job ended without any participating server"]
        return "FAILED", (reasons + stuck)[:MAX_REASONS]
    started = any(job.get("status") == "STARTED" for job in jobs.values())
    launching = any(server.get("launchStatus") in ("IN_PROGRESS", "LAUNCHED") for server in servers)
    return ("LAUNCHING" if started or launching else "POLLING"), []


def recovery_instances(drs: Any, servers: list[str]) -> dict[str, str]:
    """Source server -> the EC2 instance DRS launched for it: what operators look for after a wave."""
    found: dict[str, str] = {}
    for batch in drs_calls.chunks(servers):
        pages = drs.get_paginator("describe_recovery_instances").paginate(filters={"sourceServerIDs": batch})
        for page in pages:
            for item in page.get("items", []):
                found[item.get("sourceServerID", "")] = item.get("ec2InstanceID", "")
    return found


def replication_notes(drs: Any, servers: list[str]) -> list[str]:
    """Why a failed server may have failed on the replication side (stalled, disconnected...)."""
    notes = []
    for batch in drs_calls.chunks(servers):
        pages = drs.get_paginator("describe_source_servers").paginate(filters={"sourceServerIDs": batch})
        for page in pages:
            for item in page.get("items", []):
                state = (item.get("dataReplicationInfo") or {}).get("dataReplicationState")
                if state and state != "CONTINUOUS":
                    notes.append(f"{item['sourceServerID']}: replication {state}")
    return notes


def enrich(drs: Any, execution_id: str, status: str, servers: list[dict[str, Any]],
           reasons: list[str]) -> tuple[list[str], dict[str, str]]:
    """Extra evidence for a finished wave; a failure here never changes the wave's status."""
    try:
        if status == "FAILED":
            failed = [s["sourceServerID"] for s in servers if s.get("launchStatus") != "LAUNCHED"]
            return (reasons + replication_notes(drs, failed))[:MAX_REASONS], {}
        if status == "COMPLETED":
            return reasons, recovery_instances(drs, [s["sourceServerID"] for s in servers])
    except (ClientError, BotoCoreError) as error:
        code = (error.response.get("Error", {}).get("Code") if isinstance(error, ClientError)
                else type(error).__name__)
        log("WARN", "cannot read the wave's servers or recovery instances", executionId=execution_id,
            errorCode=code, error=str(error))
    return reasons, {}


def write_wave(execution_id: str, index: int, status: str, reasons: list[str], detail: str,
               instances: dict[str, str] | None = None, wave_number: int | None = None) -> bool:
    """Write the wave's status; the execution leaves POLLING when the wave is finished."""
    stamp = now_iso()
    sets = [f"waves[{index}].#status = :wave", f"waves[{index}].failureReasons = :reasons",
            f"waves[{index}].statusDetail = :detail", f"waves[{index}].updatedAt = :stamp",
            f"waves[{index}].polledAt = :stamp", "version = version + :one", "updatedAt = :stamp"]
    values: dict[str, Any] = {":wave": status, ":reasons": reasons, ":detail": detail, ":stamp": stamp,
                              ":one": 1, ":polling": "POLLING", ":index": index}
    if instances:
        sets.append(f"waves[{index}].recoveryInstances = :instances")
        values[":instances"] = instances
    if status == "COMPLETED":  # between waves: the finder stops polling until the next wave starts
        sets.append("#status = :next")
        values[":next"] = "RUNNING"
    elif status == "FAILED":
        sets += ["#status = :failed", "statusReason = :why", "finishedAt = :stamp"]
        values[":failed"] = "FAILED"
        values[":why"] = f"wave {wave_number or index + 1} failed: {'; '.join(reasons) or detail}"[:1000]
    try:
        boto3.resource("dynamodb").Table(os.environ["EXECUTION_TABLE"]).update_item(
            Key={"executionId": execution_id},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="#status = :polling AND currentWave = :index",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        return True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            log("INFO", "execution moved on; status not written", executionId=execution_id, wave=index)
            return False
        raise


def poll(execution_id: str) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(os.environ["EXECUTION_TABLE"])
    record = table.get_item(Key={"executionId": execution_id}, ConsistentRead=True).get("Item")
    if record is None or record.get("status") != "POLLING":
        log("INFO", "nothing to poll", executionId=execution_id, status=(record or {}).get("status"))
        return {"executionId": execution_id, "waveStatus": None}
    record = plain(record)
    index = int(record["currentWave"])
    wave = record["waves"][index]
    job_ids = list(wave.get("jobIds", []))
    try:
        drs = drs_calls.drs_client()
        jobs = describe_jobs(drs, job_ids)
        logs = {job_id: job_log_items(drs, execution_id, job_id) for job_id in jobs}
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        if code in THROTTLING_CODES:  # transient: keep the last status, the next finder run asks again
            log("WARN", "DRS throttled past retries; will poll again", executionId=execution_id,
                errorCode=code)
            return {"executionId": execution_id, "waveStatus": wave.get("status")}
        log("ERROR", "cannot read the wave's DRS job", executionId=execution_id, wave=wave["waveNumber"],
            jobIds=job_ids, errorCode=code, error=str(error))
        write_wave(execution_id, index, "UNKNOWN", [], f"{code}: {error}"[:1000])
        return {"executionId": execution_id, "waveStatus": "UNKNOWN", "errorCode": code}
    except BotoCoreError as error:  # endpoint unreachable, timeouts: the job's state is unknown
        log("ERROR", "cannot reach DRS", executionId=execution_id, errorCode=type(error).__name__,
            error=str(error))
        write_wave(execution_id, index, "UNKNOWN", [], f"{type(error).__name__}: {error}"[:1000])
        return {"executionId": execution_id, "waveStatus": "UNKNOWN", "errorCode": type(error).__name__}
    missing = [job_id for job_id in job_ids if job_id not in jobs]
    if missing or not job_ids:
        detail = f"DRS does not know job(s) {', '.join(missing) or '(none recorded)'}"
        log("ERROR", "wave job not found", executionId=execution_id, wave=wave["waveNumber"],
            errorCode="JobNotFound", jobIds=missing)
        write_wave(execution_id, index, "UNKNOWN", [], detail)
        return {"executionId": execution_id, "waveStatus": "UNKNOWN", "errorCode": "JobNotFound"}
    status, reasons = wave_outcome(jobs, logs, wave.get("sourceServerIds", []))
    servers = [server for job in jobs.values() for server in job.get("participatingServers", [])]
    reasons, instances = enrich(drs, execution_id, status, servers, reasons)
    last_events = [items[-1].get("event") for items in logs.values() if items]
    detail = "; ".join(f"{job_id}: {job.get('status')}" for job_id, job in jobs.items())
    if last_events:
        detail += f" (last event {last_events[-1]})"
    written = write_wave(execution_id, index, status, reasons, detail, instances, wave["waveNumber"])
    log("ERROR" if status == "FAILED" else "INFO", "wave polled", executionId=execution_id,
        wave=wave["waveNumber"], waveStatus=status, jobIds=job_ids, reasons=reasons, written=written)
    return {"executionId": execution_id, "waveStatus": status, "failureReasons": reasons}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return poll(str(event["executionId"]))
