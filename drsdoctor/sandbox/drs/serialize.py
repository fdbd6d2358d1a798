"""Model objects as DRS's JSON: member names and value formats exactly as botocore's drs model has them."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from drsdoctor.sandbox.drs.entities import (
    Job,
    JobLogItem,
    RecoveryInstance,
    SourceServer,
    iso,
    iso_duration,
)

AGENT_VERSION = "4.7.0"
DISK_BYTES = 32 * 1024**3
RAM_BYTES = 8 * 1024**3
OS_NAME = "Amazon Linux 2 (Karoo) 4.14.355-275.582.amzn2.x86_64"


def job(item: Job) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jobID": item.job_id,
        "arn": item.arn,
        "type": item.type,
        "initiatedBy": item.initiated_by,
        "creationDateTime": iso(item.created_at),
        "status": item.status,
        "participatingServers": [_participant(p.source_server_id, p.launch_status, p.recovery_instance_id)
                                 for p in item.servers],
        "tags": dict(item.tags),
    }
    if item.ended_at is not None:
        body["endDateTime"] = iso(item.ended_at)
    return body


def _participant(source_server_id: str, status: str, recovery_instance_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"sourceServerID": source_server_id, "launchStatus": status}
    if recovery_instance_id is not None:
        body["recoveryInstanceID"] = recovery_instance_id
    return body


def job_log_item(item: JobLogItem) -> dict[str, Any]:
    return {"logDateTime": iso(item.at), "event": item.event, "eventData": dict(item.data)}


def source_server(server: SourceServer, now: datetime, az: str) -> dict[str, Any]:
    stalled = server.replication == "STALLED"
    last_seen = server.stalled_since if stalled and server.stalled_since else now
    first_byte = server.added_at + timedelta(minutes=3)
    body: dict[str, Any] = {
        "sourceServerID": server.source_server_id,
        "arn": server.arn,
        "tags": dict(server.tags),
        "lastLaunchResult": server.last_launch_result,
        "dataReplicationInfo": _replication(server, now, last_seen, az),
        "lifeCycle": _life_cycle(server, now, first_byte, last_seen),
        "sourceProperties": {
            "lastUpdatedDateTime": iso(server.added_at),
            "recommendedInstanceType": "m5.large",
            "identificationHints": {"hostname": server.hostname, "fqdn": f"{server.hostname}.internal",
                                    "awsInstanceID": server.aws_instance_id},
            "networkInterfaces": [{"macAddress": _mac(server.source_server_id), "isPrimary": True,
                                   "ips": [_ip(server.source_server_id)]}],
            "disks": [{"deviceName": "/dev/xvda", "bytes": DISK_BYTES}],
            "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
            "ramBytes": RAM_BYTES,
            "os": {"fullString": OS_NAME},
            "supportsNitroInstances": True,
            "architecture": "x86_64",
        },
        "stagingArea": _staging(server),
        "sourceCloudProperties": {"originAccountID": server.origin_account_id,
                                  "originRegion": server.origin_region, "originAvailabilityZone": az},
        "replicationDirection": "FAILOVER",
        "agentVersion": AGENT_VERSION,
    }
    if server.recovery_instance_id is not None:
        body["recoveryInstanceId"] = server.recovery_instance_id
    return body


def _replication(server: SourceServer, now: datetime, last_seen: datetime, az: str) -> dict[str, Any]:
    stalled = server.replication == "STALLED"
    backlog = DISK_BYTES // 8 if stalled else 0
    info: dict[str, Any] = {
        "dataReplicationState": server.replication,
        "lagDuration": iso_duration(now - last_seen),
        "replicatedDisks": [{"deviceName": "/dev/xvda", "totalStorageBytes": DISK_BYTES,
                             "replicatedStorageBytes": DISK_BYTES - backlog, "rescannedStorageBytes": 0,
                             "backloggedStorageBytes": backlog}],
        "stagingAvailabilityZone": az,
    }
    if stalled:
        info["dataReplicationError"] = {
            "error": "UNSTABLE_NETWORK",
            "rawError": "Replication agent lost its connection to the replication server"}
    return info


def _life_cycle(server: SourceServer, now: datetime, first_byte: datetime,
                last_seen: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "addedToServiceDateTime": iso(server.added_at),
        "firstByteDateTime": iso(first_byte),
        "elapsedReplicationDuration": iso_duration(now - first_byte),
        "lastSeenByServiceDateTime": iso(last_seen),
    }
    if server.last_launch_job_id is not None and server.last_launch_at is not None:
        body["lastLaunch"] = {
            "initiated": {"apiCallDateTime": iso(server.last_launch_at), "jobID": server.last_launch_job_id,
                          "type": "DRILL" if server.last_launch_drill else "RECOVERY"},
            "status": server.last_launch_status or "PENDING",
        }
    return body


def _staging(server: SourceServer) -> dict[str, Any]:
    if server.staging_account_id is None:
        return {"status": "NOT_EXTENDED"}
    return {"status": "EXTENDED", "stagingAccountID": server.staging_account_id,
            "stagingSourceServerArn": server.arn.replace(server.origin_account_id, server.staging_account_id)}


def recovery_instance(instance: RecoveryInstance, server: SourceServer | None, az: str) -> dict[str, Any]:
    hostname = server.hostname if server else instance.source_server_id
    return {
        "ec2InstanceID": instance.recovery_instance_id,
        "ec2InstanceState": instance.state,
        "jobID": instance.job_id,
        "recoveryInstanceID": instance.recovery_instance_id,
        "sourceServerID": instance.source_server_id,
        "arn": instance.arn,
        "tags": dict(instance.tags),
        "failback": {"state": "FAILBACK_NOT_STARTED"},
        "dataReplicationInfo": {"dataReplicationState": "NOT_STARTED"},
        "recoveryInstanceProperties": {
            "lastUpdatedDateTime": iso(instance.launched_at),
            "identificationHints": {"hostname": hostname, "awsInstanceID": instance.recovery_instance_id},
            "networkInterfaces": [{"macAddress": _mac(instance.recovery_instance_id), "isPrimary": True,
                                   "ips": [_ip(instance.recovery_instance_id)]}],
            "disks": [{"internalDeviceName": "/dev/xvda", "bytes": DISK_BYTES,
                       "ebsVolumeID": instance.volume_id}],
            "cpus": [{"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}],
            "ramBytes": RAM_BYTES,
            "os": {"fullString": OS_NAME},
        },
        "pointInTimeSnapshotDateTime": iso(instance.snapshot_at),
        "isDrill": instance.is_drill,
        "originEnvironment": "AWS",
        "originAvailabilityZone": az,
        "agentVersion": AGENT_VERSION,
    }


def _digest(seed: str) -> bytes:
    return hashlib.sha256(seed.encode()).digest()


def _mac(seed: str) -> str:
    return "02:" + ":".join(f"{byte:02x}" for byte in _digest(seed)[:5])


def _ip(seed: str) -> str:
    digest = _digest(seed)
    return f"10.0.{digest[0]}.{max(4, digest[1])}"
