"""The DRS calls of the reference orchestrator, shared by the orchestration function and the poller.

One client configuration (adaptive retries on throttling) and the calls that start a wave: StartRecovery
in batches of at most 200 source servers, each job tagged so an interrupted start can find what it began.
Shipped in the same zip as the handlers; nothing but boto3.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

MAX_SERVERS_PER_CALL = 200  # StartRecovery, DescribeSourceServers and DescribeRecoveryInstances filters
MAX_JOB_IDS_PER_CALL = 1000  # DescribeJobs filters.jobIDs
# DRS quota L-05AFA8C6: a wave's batches all run at once, so a wave must fit in it whole
MAX_SERVERS_IN_ALL_JOBS = 500
QUOTA_CODE = "ServiceQuotaExceededException"
DRS_MAX_ATTEMPTS = 8
THROTTLING_CODES = {"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"}
# tags on each StartRecovery job: a retry finds the jobs an interrupted start left unrecorded
TAG_EXECUTION = "drs-orchestrator:execution-id"
TAG_WAVE, TAG_BATCH = "drs-orchestrator:wave", "drs-orchestrator:batch"


class DrsThrottled(Exception):
    """DRS asked to come back later: it kept throttling past the client's retries, or its job quotas (jobs in
    progress, source servers in all active jobs) are full until running jobs end. Step Functions retries this
    state with backoff."""


def drs_client() -> Any:
    # adaptive mode retries throttling (incl. HTTP 429) with backoff and slows the client down;
    # AWS_MAX_ATTEMPTS, the SDKs' own setting, tunes how long to insist
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DRS_MAX_ATTEMPTS)
    config = Config(retries={"mode": "adaptive", "total_max_attempts": attempts})
    return boto3.client("drs", region_name=os.environ["DRS_REGION"], config=config)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def is_throttling(error: ClientError) -> bool:
    return error_code(error) in THROTTLING_CODES


def chunks(items: list[str], size: int = MAX_SERVERS_PER_CALL) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def unknown_servers(drs: Any, servers: list[str]) -> list[str]:
    """Servers DRS does not know: StartRecovery would skip them silently, so the wave fails up front."""
    known: set[str] = set()
    try:
        for batch in chunks(servers):
            pages = drs.get_paginator("describe_source_servers").paginate(filters={"sourceServerIDs": batch})
            for page in pages:
                known.update(item["sourceServerID"] for item in page.get("items", []))
    except ClientError as error:
        if is_throttling(error):
            raise DrsThrottled(f"drs:DescribeSourceServers throttled past retries: {error}") from error
        raise
    return [server for server in servers if server not in known]


def tagged_jobs(drs: Any, execution_id: str, index: int, since: str) -> dict[int, str]:
    """Jobs an earlier, interrupted invocation started for this wave: batch number -> job id."""
    found: dict[int, str] = {}
    for page in drs.get_paginator("describe_jobs").paginate(filters={"fromDate": since}):
        for job in page.get("items", []):
            tags = job.get("tags") or {}
            if tags.get(TAG_EXECUTION) == execution_id and tags.get(TAG_WAVE) == str(index):
                found[int(tags.get(TAG_BATCH, "0"))] = job["jobID"]
    return found


def start_recovery(drs: Any, servers: list[str], is_drill: bool, execution_id: str, index: int,
                   batch: int) -> str:
    """Start one batch of a wave; the job carries the tags tagged_jobs looks for."""
    tags = {TAG_EXECUTION: execution_id, TAG_WAVE: str(index), TAG_BATCH: str(batch)}
    try:
        response = drs.start_recovery(sourceServers=[{"sourceServerID": server} for server in servers],
                                      isDrill=is_drill, tags=tags)
    except ClientError as error:
        if is_throttling(error):
            raise DrsThrottled(f"drs:StartRecovery throttled past retries: {error}") from error
        if error_code(error) == QUOTA_CODE:  # other jobs (another plan's) hold the quota until they end
            raise DrsThrottled(f"drs:StartRecovery: DRS job quota full, retrying: {error}") from error
        raise
    return str(response["job"]["jobID"])
