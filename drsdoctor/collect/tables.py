"""The DynamoDB tables the functions are configured with, the region's table names, and the execution's
own record in the execution-history table."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from drsdoctor.aws.failures import AwsFailure
from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import ExecutionRecord, Function, Table, TableIndex, WaveRecord

JOB_ID = re.compile(r"\bdrsjob-[0-9a-zA-Z]+\b")


def table_variables(functions: list[Function]) -> dict[str, set[str]]:
    """Table name -> the environment variables (function.VARIABLE) that name it."""
    named: dict[str, set[str]] = {}
    for item in functions:
        for variable, value in item.environment.items():
            if "TABLE" in variable.upper() and value and not value.startswith("arn:"):
                named.setdefault(value, set()).add(f"{item.name}.{variable}")
            elif variable.upper().endswith("TABLE_ARN") and ":table/" in value:
                name = value.split(":table/")[1].split("/")[0]
                named.setdefault(name, set()).add(f"{item.name}.{variable}")
    return named


def region_table_names(gather: Gatherer) -> list[str]:
    def list_all() -> list[str]:
        names: list[str] = []
        for page in gather.pages("dynamodb", "list_tables", gather.region, "ExclusiveStartTableName",
                                 "LastEvaluatedTableName", max_pages=20):
            names.extend(page.get("TableNames", []))
        return names

    return gather.fact("region_table_names", "", list_all) or []


def table(gather: Gatherer, name: str) -> Table | None:
    try:
        found = gather.call("dynamodb", "describe_table", name, TableName=name)["Table"]
    except AwsFailure as failure:
        if failure.kind == "not_found":  # the fact is that it does not exist: checks suggest near misses
            return Table(name=name, exists=False, status="")
        if failure.fatal:
            raise
        gather.record("tables", name, failure)
        return None
    indexes = [TableIndex(name=index["IndexName"], keys=_keys(index.get("KeySchema", [])),
                          status=index.get("IndexStatus", "ACTIVE"))
               for index in found.get("GlobalSecondaryIndexes", []) + found.get("LocalSecondaryIndexes", [])]
    return Table(name=found["TableName"], exists=True, status=found.get("TableStatus", "ACTIVE"),
                 keys=_keys(found.get("KeySchema", [])), indexes=indexes, arn=found.get("TableArn", ""))


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["AttributeName"]: key["KeyType"] for key in schema}


def execution_record(gather: Gatherer, found: Table, execution_arn: str) -> ExecutionRecord | None:
    """The execution's item, keyed by its ARN on the table's partition key: one Query whatever the key
    schema (with a sort key, the newest item), so dynamodb:Query is the one permission it needs."""
    partition = next((name for name, kind in found.keys.items() if kind == "HASH"), "executionId")

    def read() -> dict[str, Any] | None:
        answer = gather.call("dynamodb", "query", found.name, TableName=found.name, Limit=1,
                             KeyConditionExpression="#k = :v", ExpressionAttributeNames={"#k": partition},
                             ExpressionAttributeValues={":v": {"S": execution_arn}}, ScanIndexForward=False,
                             ConsistentRead=True)
        return (answer.get("Items") or [None])[0]

    try:
        raw = read()
    except AwsFailure as failure:
        if failure.fatal:
            raise
        gather.record("execution_record", found.name, failure)
        return None
    if raw is None:
        return ExecutionRecord(table=found.name, key={partition: execution_arn}, status="", item={})
    return record_from_item(found.name, {partition: execution_arn}, plain(_deserialize(raw)))


def record_from_item(table_name: str, key: dict[str, str], item: dict[str, Any]) -> ExecutionRecord:
    waves = []
    for index, wave in enumerate(item.get("waves") or []):
        if not isinstance(wave, dict):
            continue
        job_ids = [str(job) for job in wave.get("jobIds") or ([wave["jobId"]] if wave.get("jobId") else [])]
        waves.append(WaveRecord(
            number=_int(wave.get("waveNumber", wave.get("number")), index),
            status=str(wave.get("status", "")),
            name=str(wave.get("name", "")), job_id=job_ids[0] if job_ids else None,
            server_ids=[str(server) for server in wave.get("sourceServerIds") or wave.get("serverIds") or []],
            updated_at=_date(wave.get("updatedAt"))))
    interval = item.get("pollIntervalSeconds")
    return ExecutionRecord(table=table_name, key=key, status=str(item.get("status", "")), waves=waves,
                           updated_at=_date(item.get("updatedAt")),
                           poll_interval_seconds=int(interval) if isinstance(interval, (int, float))
                           else None,
                           item=item)


def job_ids_in(*texts: str) -> list[str]:
    """DRS job ids (drsjob-...) mentioned anywhere in these texts, first seen first."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in JOB_ID.findall(text or ""):
            seen.setdefault(match, None)
    return list(seen)


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}


def plain(value: Any) -> Any:
    """DynamoDB values as plain JSON: numbers without Decimal, sets as sorted lists, bytes as text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), (bytes, bytearray)):
        return bytes(value.value).decode("utf-8", "replace")
    return value


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _date(value: Any) -> datetime | None:
    if isinstance(value, (int, float)):
        from datetime import timezone

        return datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None
