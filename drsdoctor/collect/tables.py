"""The DynamoDB tables the functions are configured with, the region's table names, and the execution's
own record in the execution-history table."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from drsdoctor.aws.failures import AwsFailure
from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import ExecutionRecord, Table, TableIndex, WaveRecord

JOB_ID = re.compile(r"\bdrsjob-[0-9a-zA-Z]+\b")


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


def execution_record(gather: Gatherer, found: Table, execution_arn: str,
                     execution_input: dict[str, Any] | None = None) -> ExecutionRecord | None:
    """The execution's item, found through the table's key schema: its partition key holds the execution's
    name (a key named for a name) or ARN (any other), or the id of the input field of the same name. One
    Query a try whatever the key schema (with a sort key, the newest item), so dynamodb:Query is the one
    permission it needs. An empty record (exists False) when none matched."""
    partition = next((name for name, kind in found.keys.items() if kind == "HASH"), "")
    if not partition:
        return None
    name = execution_arn.rsplit(":", 1)[-1]
    tries: list[tuple[str, str]] = []
    lowered = partition.lower()
    # a key named for the execution's name holds its name; any other (executionId, pk, id) its ARN
    tries.append(("execution-name", name) if "name" in lowered and "arn" not in lowered
                 else ("execution-arn", execution_arn))
    for field_name, value in (execution_input or {}).items():
        if _plain_name(field_name) == _plain_name(partition) and isinstance(value, str) and value not in (
                execution_arn, name):
            tries.append((f"input:{field_name}", value))
    try:
        for source, value in tries:
            raw = _newest(gather, found, partition, value)
            if raw is None:
                continue
            item = plain(_deserialize(raw))
            if source.startswith("input:") and not _mentions(item, execution_arn, name):
                continue  # another kind of item keyed by the same id (a plan): not this execution's record
            record = record_from_item(found.name, {partition: value}, item)
            record.key_source = source
            return record
    except AwsFailure as failure:
        if failure.fatal:
            raise
        gather.record("execution_record", found.name, failure)
        return None
    return ExecutionRecord(table=found.name, key={partition: execution_arn}, status="", item={})


def _newest(gather: Gatherer, found: Table, partition: str, value: str) -> dict[str, Any] | None:
    answer = gather.call("dynamodb", "query", found.name, TableName=found.name, Limit=1,
                         KeyConditionExpression="#k = :v", ExpressionAttributeNames={"#k": partition},
                         ExpressionAttributeValues={":v": {"S": value}}, ScanIndexForward=False,
                         ConsistentRead=True)
    return (answer.get("Items") or [None])[0]


def _mentions(item: Any, *texts: str) -> bool:
    if isinstance(item, dict):
        return any(_mentions(value, *texts) for value in item.values())
    if isinstance(item, list):
        return any(_mentions(value, *texts) for value in item)
    return isinstance(item, str) and any(text and text in item for text in texts)


def _plain_name(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


# An attribute is matched without regard to case, underscores or hyphens, and by these common aliases.
ALIASES = {
    "status": ("status", "state", "executionstatus", "planstatus", "wavestatus", "overallstatus"),
    "waves": ("waves", "wavelist", "wavestatuses", "wavestates"),
    "number": ("wavenumber", "number", "waveindex", "index", "wave"),
    "name": ("name", "wavename"),
    "job_ids": ("jobids", "drsjobids"),
    "job_id": ("jobid", "drsjobid", "recoveryjobid"),
    "servers": ("sourceserverids", "serverids", "servers", "sourceservers"),
    "updated": ("updatedat", "lastupdated", "updatetime", "lastupdatedat", "modifiedat", "updated"),
    "interval": ("pollintervalseconds", "pollinterval", "waitseconds"),
}


def attribute(item: dict[str, Any], meaning: str) -> tuple[str, Any]:
    """The item's attribute for a meaning (its name as written, its value); ("", None) if it has none."""
    names = {_plain_name(key): key for key in item}
    for alias in ALIASES[meaning]:
        if alias in names:
            return names[alias], item[names[alias]]
    return "", None


def record_from_item(table_name: str, key: dict[str, str], item: dict[str, Any]) -> ExecutionRecord:
    waves = []
    status_name, status = attribute(item, "status")
    for index, wave in enumerate(attribute(item, "waves")[1] or []):
        if not isinstance(wave, dict):
            continue
        listed, single = attribute(wave, "job_ids")[1], attribute(wave, "job_id")[1]
        job_ids = [str(job) for job in (listed if isinstance(listed, list) else [single] if single else [])]
        servers = attribute(wave, "servers")[1]
        waves.append(WaveRecord(
            number=_int(attribute(wave, "number")[1], index),
            status=str(attribute(wave, "status")[1] or ""),
            name=str(attribute(wave, "name")[1] or ""), job_id=job_ids[0] if job_ids else None,
            server_ids=[str(server) for server in servers] if isinstance(servers, list) else [],
            updated_at=_date(attribute(wave, "updated")[1])))
    interval = attribute(item, "interval")[1]
    return ExecutionRecord(table=table_name, key=key, status=str(status or ""), waves=waves,
                           updated_at=_date(attribute(item, "updated")[1]),
                           poll_interval_seconds=int(interval) if isinstance(interval, (int, float))
                           else None,
                           item=item, status_attribute=status_name)


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
