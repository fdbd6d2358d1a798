"""The reference orchestrator's DynamoDB items, documented, with builders (sandbox seed, tests, examples).

Protection group (table drs-orchestrator-ENV-protection-groups, key groupId):
    {groupId, name, sourceServerIds: [DRS source server ids]}
Recovery plan (table drs-orchestrator-ENV-recovery-plans, key planId):
    {planId, name, isDrill (optional, default false), waves: [{waveNumber, name, protectionGroupIds}]}
Execution record (table drs-orchestrator-ENV-execution-history, key executionId = the Step Functions
execution ARN; GSI StatusIndex on status):
    executionId, planId, planName, isDrill,
    status        RUNNING (begun, or between waves) -> POLLING (a wave in flight: the finder polls these)
                  -> COMPLETED | FAILED; statusReason says why it ended
    currentWave   index into waves of the wave started last
    waves[]       {waveNumber, name, protectionGroupIds, sourceServerIds, jobIds, status, startedAt,
                   updatedAt, polledAt, failureReasons, statusDetail, claimedAt, claimToken}
                  wave status: PENDING -> STARTING (claimed by start_wave) -> POLLING (jobs started)
                  -> LAUNCHING -> COMPLETED | FAILED, or UNKNOWN while DRS cannot be read
    version       incremented by every write (orchestration function and poller alike)
    createdAt, updatedAt, finishedAt (ISO 8601 UTC, seconds)
Who writes what: the orchestration function writes the plan fields, the wave claim and job ids,
currentWave and the final status; the execution-poller writes each wave's status fields (and the
execution's status when the wave completes or fails). Each writes only its own attributes, with a condition.
"""

from __future__ import annotations

from typing import Any

PENDING, STARTING, POLLING, LAUNCHING = "PENDING", "STARTING", "POLLING", "LAUNCHING"
COMPLETED, FAILED, UNKNOWN, RUNNING = "COMPLETED", "FAILED", "UNKNOWN", "RUNNING"


def protection_group(group_id: str, name: str, source_server_ids: list[str]) -> dict[str, Any]:
    return {"groupId": group_id, "name": name, "sourceServerIds": list(source_server_ids)}


def recovery_plan(plan_id: str, name: str, waves: list[tuple[str, list[str]]],
                  is_drill: bool = False) -> dict[str, Any]:
    """waves: (wave name, protection group ids) in launch order; numbered from 1."""
    return {"planId": plan_id, "name": name, "isDrill": is_drill,
            "waves": [{"waveNumber": number, "name": wave_name, "protectionGroupIds": list(group_ids)}
                      for number, (wave_name, group_ids) in enumerate(waves, start=1)]}


def wave(wave_number: int, name: str, source_server_ids: list[str], status: str = PENDING,
         job_ids: list[str] | None = None, started_at: str | None = None,
         failure_reasons: list[str] | None = None,
         protection_group_ids: list[str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"waveNumber": wave_number, "name": name,
                            "protectionGroupIds": list(protection_group_ids or []),
                            "sourceServerIds": list(source_server_ids), "status": status,
                            "jobIds": list(job_ids or []), "failureReasons": list(failure_reasons or [])}
    if started_at:
        item["startedAt"] = item["updatedAt"] = started_at
    return item


def execution_record(execution_id: str, plan_id: str, waves: list[dict[str, Any]], status: str = RUNNING,
                     current_wave: int = 0, stamp: str = "2024-01-01T00:00:00Z", plan_name: str = "",
                     is_drill: bool = False) -> dict[str, Any]:
    return {"executionId": execution_id, "planId": plan_id, "planName": plan_name or plan_id,
            "isDrill": is_drill, "status": status, "currentWave": current_wave, "waves": waves,
            "version": 1, "createdAt": stamp, "updatedAt": stamp}


# The example plan (also in examples/plans/): three waves over six servers in three protection groups.
SAMPLE_SERVERS = {
    "database": ["s-0a1b2c3d4e5f60001", "s-0a1b2c3d4e5f60002"],
    "app": ["s-0a1b2c3d4e5f60003", "s-0a1b2c3d4e5f60004"],
    "web": ["s-0a1b2c3d4e5f60005", "s-0a1b2c3d4e5f60006"],
}


def sample_groups() -> list[dict[str, Any]]:
    return [protection_group(f"pg-{tier}", f"{tier} servers", servers)
            for tier, servers in SAMPLE_SERVERS.items()]


def sample_plan() -> dict[str, Any]:
    return recovery_plan("plan-three-tier", "three-tier application",
                         [(tier, [f"pg-{tier}"]) for tier in SAMPLE_SERVERS])


def to_dynamodb_json(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed JSON, as `aws dynamodb put-item --item file://...` reads it."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(value) for key, value in item.items()}
