"""Orchestration function of the reference DRS wave orchestrator (Lambda handler: orchestration.handler).

The state machine calls it with an "action": begin_plan, start_wave, wave_status, complete_plan, fail_plan.
It owns the execution record's plan fields, each wave's start (claim, job ids) and the execution's
final status; the execution-poller owns each wave's progress. Every write is an UpdateExpression on
the attributes this function owns, guarded by a condition, so neither side overwrites the other.
Runs on Python 3.10+ with nothing but boto3; configuration comes from the environment at each call.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

try:  # imported as part of drsdoctor (tests)
    from . import drs_calls
except ImportError:  # on Lambda the zip's root is on sys.path
    import drs_calls  # type: ignore[no-redef]

DrsThrottled = drs_calls.DrsThrottled
error_code = drs_calls.error_code
MAX_WAVES = 10  # bounds the execution history (see drsdoctor.reference.limits)
CLAIM_LEASE_SECONDS = 300  # longer than the function timeout: an older claim belongs to a dead invocation
CLOCK_SKEW_SECONDS = 300  # DRS stamps jobs with its own clock: look a little before the claim
FINISHED_WAVE = {"COMPLETED", "FAILED"}


class PlanNotFound(Exception):
    """The recovery plan or one of its protection groups is not in its table."""


class PlanInvalid(Exception):
    """The plan cannot be run as it is (no waves, too many waves, a server in two waves)."""


class WaveStartInProgress(Exception):
    """Another invocation holds the wave's start claim; Step Functions retries this state."""


class ExecutionNotRunning(Exception):
    """The execution already finished (or another wave is in the way); nothing is started."""


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON line per event: operators and drsdoctor search these logs."""
    line = {"level": level, "function": "orchestration", "message": message, **fields}
    print(json.dumps(line, default=str))


def now_epoch() -> float:
    return time.time()


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; Step Functions needs plain JSON."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def table(variable: str) -> Any:
    return boto3.resource("dynamodb").Table(os.environ[variable])


def load_execution(execution_id: str) -> dict[str, Any]:
    key = {"executionId": execution_id}
    item = table("EXECUTION_TABLE").get_item(Key=key, ConsistentRead=True).get("Item")
    if item is None:
        raise ExecutionNotRunning(f"execution {execution_id} has no record")
    return plain(item)


def build_waves(plan: dict[str, Any], groups: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's waves in order, each with its deduplicated source servers."""
    waves: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for wave in sorted(plan.get("waves", []), key=lambda wave: int(wave["waveNumber"])):
        servers: list[str] = []
        for group_id in wave.get("protectionGroupIds", []):
            for server in groups[group_id].get("sourceServerIds", []):
                if server in seen and seen[server] != wave["waveNumber"]:
                    where = f"wave {seen[server]} and wave {wave['waveNumber']}"
                    raise PlanInvalid(f"server {server} is in {where}")
                if server not in servers:
                    servers.append(server)
                    seen[server] = wave["waveNumber"]
        if not servers:
            raise PlanInvalid(f"wave {wave['waveNumber']} of plan {plan['planId']} has no source servers")
        if len(servers) > drs_calls.MAX_SERVERS_IN_ALL_JOBS:
            raise PlanInvalid(f"wave {wave['waveNumber']} of plan {plan['planId']} has {len(servers)} source "
                              f"servers; DRS runs at most {drs_calls.MAX_SERVERS_IN_ALL_JOBS} in all active "
                              "jobs, and a wave's jobs run at once: split the wave")
        name = wave.get("name", f"wave {wave['waveNumber']}")
        waves.append({"waveNumber": int(wave["waveNumber"]), "name": name,
                      "protectionGroupIds": list(wave.get("protectionGroupIds", [])),
                      "sourceServerIds": servers, "status": "PENDING", "jobIds": [], "failureReasons": []})
    if not waves:
        raise PlanInvalid(f"plan {plan['planId']} has no waves")
    if len(waves) > MAX_WAVES:
        raise PlanInvalid(f"plan {plan['planId']} has {len(waves)} waves; at most {MAX_WAVES} fit one run")
    return waves


def begin_plan(event: dict[str, Any]) -> dict[str, Any]:
    execution_id, plan_id = event["executionId"], event["planId"]
    plan = table("PLANS_TABLE").get_item(Key={"planId": plan_id}, ConsistentRead=True).get("Item")
    if plan is None:
        raise PlanNotFound(f"recovery plan {plan_id} is not in {os.environ['PLANS_TABLE']}")
    plan = plain(plan)
    groups = {}
    for group_id in {gid for wave in plan.get("waves", []) for gid in wave.get("protectionGroupIds", [])}:
        group = table("GROUPS_TABLE").get_item(Key={"groupId": group_id}, ConsistentRead=True).get("Item")
        if group is None:
            where = os.environ["GROUPS_TABLE"]
            raise PlanNotFound(f"protection group {group_id} of plan {plan_id} is not in {where}")
        groups[group_id] = plain(group)
    waves = build_waves(plan, groups)
    stamp = iso(now_epoch())
    record = {"executionId": execution_id, "planId": plan_id, "planName": plan.get("name", plan_id),
              "isDrill": bool(plan.get("isDrill", False)), "status": "RUNNING", "currentWave": 0,
              "waves": waves, "version": 1, "createdAt": stamp, "updatedAt": stamp}
    try:
        table("EXECUTION_TABLE").put_item(Item=record,
                                          ConditionExpression="attribute_not_exists(executionId)")
        log("INFO", "plan begun", executionId=execution_id, planId=plan_id, waves=len(waves))
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        record = load_execution(execution_id)  # a retried begin_plan: the first one already wrote it
        log("INFO", "plan already begun", executionId=execution_id, planId=plan_id)
    return {"executionId": execution_id, "planId": plan_id, "waveIndex": 0, "waveCount": len(record["waves"])}


def claim_wave(execution_id: str, index: int, token: str) -> bool:
    """Claim the wave's start before calling DRS; False when someone else holds or finished it."""
    now = now_epoch()
    wave = f"waves[{index}]"
    condition = (f"#status = :running AND ({wave}.#status = :pending OR "
                 f"({wave}.#status = :starting AND {wave}.claimedAt < :stale))")
    values: dict[str, Any] = {":running": "RUNNING", ":pending": "PENDING", ":starting": "STARTING",
                              ":stale": Decimal(int(now - CLAIM_LEASE_SECONDS)), ":now": Decimal(int(now)),
                              ":token": token, ":stamp": iso(now), ":index": index, ":one": 1}
    if index > 0:  # waves run in order: the previous wave must have completed
        condition += f" AND waves[{index - 1}].#status = :completed"
        values[":completed"] = "COMPLETED"
    try:
        table("EXECUTION_TABLE").update_item(
            Key={"executionId": execution_id},
            UpdateExpression=(f"SET {wave}.#status = :starting, {wave}.claimedAt = :now, "
                              f"{wave}.claimToken = :token, "
                              f"{wave}.startedAt = if_not_exists({wave}.startedAt, :stamp), "
                              f"currentWave = :index, version = version + :one, updatedAt = :stamp"),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        return True
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def release_claim(execution_id: str, index: int, token: str) -> None:
    """Let the next attempt take the wave over at once; it finds any started job by its tags."""
    try:
        table("EXECUTION_TABLE").update_item(
            Key={"executionId": execution_id}, UpdateExpression=f"SET waves[{index}].claimedAt = :released",
            ConditionExpression=f"waves[{index}].claimToken = :token",
            ExpressionAttributeValues={":released": 0, ":token": token})
    except ClientError as error:  # the start's own error is the one to report
        log("WARN", "cannot release the wave claim", executionId=execution_id, errorCode=error_code(error))


def record_job(execution_id: str, index: int, token: str, batch: int, job_id: str) -> None:
    """Append the batch's job id right away, so a retry never starts that batch again."""
    wave = f"waves[{index}]"
    table("EXECUTION_TABLE").update_item(
        Key={"executionId": execution_id},
        UpdateExpression=(f"SET {wave}.jobIds = list_append({wave}.jobIds, :job), "
                          "version = version + :one, updatedAt = :stamp"),
        ConditionExpression=f"{wave}.claimToken = :token AND size({wave}.jobIds) = :batch",
        ExpressionAttributeValues={":job": [job_id], ":one": 1, ":stamp": iso(now_epoch()),
                                   ":token": token, ":batch": batch},
    )


def wave_result(record: dict[str, Any], index: int) -> dict[str, Any]:
    wave = record["waves"][index]
    return {"executionId": record["executionId"], "planId": record["planId"], "waveIndex": index,
            "waveCount": len(record["waves"]), "waveNumber": wave["waveNumber"],
            "jobIds": wave.get("jobIds", []),
            "attempt": 0, "waitSeconds": poll_interval()}


def start_wave(event: dict[str, Any]) -> dict[str, Any]:
    execution_id, index = event["executionId"], int(event["waveIndex"])
    record = load_execution(execution_id)
    wave = record["waves"][index]
    if wave["status"] not in ("PENDING", "STARTING"):
        log("INFO", "wave already started", executionId=execution_id, wave=wave["waveNumber"],
            jobIds=wave["jobIds"])
        return wave_result(record, index)
    token = uuid.uuid4().hex
    taking_over = wave["status"] == "STARTING"
    drs = drs_calls.drs_client()
    if not taking_over:
        missing = drs_calls.unknown_servers(drs, wave["sourceServerIds"])
        if missing:
            unknown = ", ".join(missing[:10])
            raise PlanInvalid(f"wave {wave['waveNumber']}: DRS has no source server {unknown}")
    if not claim_wave(execution_id, index, token):
        record = load_execution(execution_id)
        wave = record["waves"][index]
        if wave["status"] == "STARTING":
            raise WaveStartInProgress(f"wave {wave['waveNumber']} is being started by another invocation")
        if wave["status"] == "PENDING" or record["status"] not in ("RUNNING", "POLLING"):
            why = f"execution is {record['status']}; wave {wave['waveNumber']} not started"
            raise ExecutionNotRunning(why)
        return wave_result(record, index)
    recorded = list(wave.get("jobIds", []))
    batches = drs_calls.chunks(wave["sourceServerIds"])
    found = {}
    if taking_over:  # a dead invocation may have started batches it never recorded: find them by their tags
        since = parse_iso(wave["startedAt"]) if wave.get("startedAt") else now_epoch()
        found = drs_calls.tagged_jobs(drs, execution_id, index, iso(since - CLOCK_SKEW_SECONDS))
    try:
        for batch in range(len(recorded), len(batches)):
            job_id = found.get(batch) or drs_calls.start_recovery(
                drs, batches[batch], bool(record.get("isDrill")), execution_id, index, batch)
            record_job(execution_id, index, token, batch, job_id)
            recorded.append(job_id)
            log("INFO", "wave batch started", executionId=execution_id, wave=wave["waveNumber"],
                batch=batch, jobId=job_id, servers=len(batches[batch]), resumed=batch in found)
    except (ClientError, DrsThrottled):
        release_claim(execution_id, index, token)  # alive to say so: the retry need not wait out the lease
        raise
    stamp = iso(now_epoch())
    table("EXECUTION_TABLE").update_item(
        Key={"executionId": execution_id},
        UpdateExpression=(f"SET waves[{index}].#status = :polling, waves[{index}].updatedAt = :stamp, "
                          "#status = :polling, version = version + :one, updatedAt = :stamp"),
        ConditionExpression=f"waves[{index}].claimToken = :token AND waves[{index}].#status = :starting",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":polling": "POLLING", ":stamp": stamp, ":one": 1, ":token": token,
                                   ":starting": "STARTING"},
    )
    log("INFO", "wave started", executionId=execution_id, wave=wave["waveNumber"], jobIds=recorded)
    return {**wave_result(record, index), "jobIds": recorded}


def poll_interval() -> int:
    return int(os.environ.get("POLL_INTERVAL_SECONDS", "30"))


def wait_seconds(attempt: int) -> int:
    """Exponential backoff from the poll interval, capped: the loop's length is bounded by the timeout."""
    interval = poll_interval()
    cap = max(interval, int(os.environ.get("MAX_POLL_INTERVAL_SECONDS", "300")))
    return int(min(cap, interval * 2 ** min(attempt, 20)))


def wave_status(event: dict[str, Any]) -> dict[str, Any]:
    execution_id, index = event["executionId"], int(event["waveIndex"])
    attempt = int(event.get("attempt", 0)) + 1
    record = load_execution(execution_id)
    wave = record["waves"][index]
    timeout = int(os.environ.get("WAVE_TIMEOUT_MINUTES", "60")) * 60
    started = parse_iso(wave["startedAt"]) if wave.get("startedAt") else now_epoch()
    timed_out = wave["status"] not in FINISHED_WAVE and now_epoch() - started >= timeout
    return {"executionId": execution_id, "planId": record["planId"], "waveIndex": index,
            "waveCount": len(record["waves"]), "waveNumber": wave["waveNumber"], "waveStatus": wave["status"],
            "failureReasons": wave.get("failureReasons", []), "waveTimedOut": timed_out,
            "hasMoreWaves": index + 1 < len(record["waves"]), "nextWaveIndex": index + 1,
            "attempt": attempt, "waitSeconds": wait_seconds(attempt)}


def finish(execution_id: str, status: str, reason: str, condition: str, values: dict[str, Any]) -> bool:
    stamp = iso(now_epoch())
    try:
        table("EXECUTION_TABLE").update_item(
            Key={"executionId": execution_id},
            UpdateExpression=("SET #status = :final, statusReason = if_not_exists(statusReason, :reason), "
                              "finishedAt = :stamp, version = version + :one, updatedAt = :stamp"),
            ConditionExpression=f"attribute_exists(executionId) AND ({condition})",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":final": status, ":reason": reason, ":stamp": stamp, ":one": 1,
                                       **values},
        )
        return True
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def complete_plan(event: dict[str, Any]) -> dict[str, Any]:
    execution_id = event["executionId"]
    done = finish(execution_id, "COMPLETED", "every wave completed", "#status IN (:running, :completed)",
                  {":running": "RUNNING", ":completed": "COMPLETED"})
    if not done:
        raise ExecutionNotRunning(f"execution {execution_id} cannot complete: it is not RUNNING")
    log("INFO", "plan completed", executionId=execution_id)
    return {"executionId": execution_id, "status": "COMPLETED"}


def fail_plan(event: dict[str, Any]) -> dict[str, Any]:
    execution_id = event["executionId"]
    reason = str(event.get("reason") or "the recovery failed")
    if event.get("waveNumber") is not None:
        reason = f"wave {event['waveNumber']}: {reason}"
    if event.get("waveStatus"):
        reason += f" with status {event['waveStatus']}"
    if event.get("failureReasons"):
        reason += ": " + "; ".join(str(item) for item in event["failureReasons"])[:800]
    cause = event.get("error")
    if isinstance(cause, dict):  # a Catch hands over {"Error": ..., "Cause": ...}
        reason = f"{reason}: {cause.get('Error')}: {str(cause.get('Cause', ''))[:500]}"
    recorded = finish(execution_id, "FAILED", reason, "#status <> :completed", {":completed": "COMPLETED"})
    log("ERROR", "plan failed", executionId=execution_id, reason=reason, recorded=recorded)
    return {"executionId": execution_id, "status": "FAILED", "reason": reason}


ACTIONS = {"begin_plan": begin_plan, "start_wave": start_wave, "wave_status": wave_status,
           "complete_plan": complete_plan, "fail_plan": fail_plan}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    action = event.get("action")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {sorted(ACTIONS)}")
    try:
        return ACTIONS[action](event)
    except ClientError as error:
        log("ERROR", f"{action} failed", executionId=event.get("executionId"), errorCode=error_code(error),
            error=str(error))
        raise
