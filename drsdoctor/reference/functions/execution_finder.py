"""Execution-finder of the reference DRS wave orchestrator (Lambda handler: execution_finder.handler).

Run every minute by the EventBridge schedule rule. Finds the executions whose status is POLLING
(a wave in flight) through the execution table's status index, and invokes the execution-poller
asynchronously once per execution. Runs on Python 3.10+ with nothing but boto3.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def log(level: str, message: str, **fields: Any) -> None:
    """One JSON line per event: operators and drsdoctor search these logs."""
    line = {"level": level, "function": "execution-finder", "message": message, **fields}
    print(json.dumps(line, default=str))


def polling_executions() -> list[str]:
    client = boto3.client("dynamodb")
    found: list[str] = []
    pages = client.get_paginator("query").paginate(
        TableName=os.environ["EXECUTION_TABLE"],
        IndexName=os.environ["STATUS_INDEX"],
        KeyConditionExpression="#status = :polling",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":polling": {"S": "POLLING"}},
        ProjectionExpression="executionId",
    )
    for page in pages:
        found.extend(item["executionId"]["S"] for item in page.get("Items", []))
    return found


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    poller = os.environ["POLLER_FUNCTION"]
    try:
        executions = polling_executions()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        log("ERROR", "cannot query the status index", errorCode=code, error=str(error),
            table=os.environ.get("EXECUTION_TABLE"), index=os.environ.get("STATUS_INDEX"))
        raise
    lambda_client = boto3.client("lambda", config=Config(retries={"mode": "standard", "max_attempts": 5}))
    invoked, failed = [], []
    for execution_id in executions:
        try:
            lambda_client.invoke(FunctionName=poller, InvocationType="Event",
                                 Payload=json.dumps({"executionId": execution_id}).encode())
            invoked.append(execution_id)
        except ClientError as error:  # one unreachable poller call must not starve the other executions
            code = error.response.get("Error", {}).get("Code", "Unknown")
            log("ERROR", "cannot invoke the poller", executionId=execution_id, poller=poller, errorCode=code,
                error=str(error))
            failed.append(execution_id)
    log("INFO", "polling executions found", found=len(executions), invoked=len(invoked), failed=len(failed),
        poller=poller)
    return {"found": len(executions), "invoked": invoked, "failed": failed}
