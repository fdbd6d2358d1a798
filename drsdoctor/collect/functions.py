"""Each Lambda function: configuration, resource policy, and what its logs say (last run, recent errors)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from drsdoctor.aws.failures import AwsFailure
from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import Function

STACK_TAG = "aws:cloudformation:stack-name"
# A line worth showing an operator: our JSON log levels, Python tracebacks, Lambda's own failures.
ERROR_LINE = re.compile(r'"level":\s*"ERROR"|\bERROR\b|Traceback|Exception|AccessDenied|Task timed out|'
                        r"Runtime\.\w+Error|errorMessage", re.IGNORECASE)
ERROR_FILTER = '?ERROR ?Error ?error ?Exception ?AccessDenied ?"Task timed out"'
MAX_ERRORS = 20
LOG_LOOKBACK = timedelta(hours=6)  # errors older than this, or than the execution, explain nothing now


def bare_name(reference: str) -> str:
    """my-fn, my-fn:alias, arn:aws:lambda:r:a:function:my-fn[:qualifier] -> my-fn."""
    if reference.startswith("arn:"):
        return reference.split(":")[6]
    return reference.split(":")[0]


@dataclass
class Found:
    """A function as GetFunction answered, with what the snapshot does not keep."""

    function: Function
    tags: dict[str, str] = field(default_factory=dict)
    log_group: str = ""


def function(gather: Gatherer, reference: str) -> Found | None:
    """GetFunction: configuration, tags and reserved concurrency in one call. A function that cannot be
    read is a FactError on `functions` with the reference as resource."""
    def get() -> Found:
        found = gather.call("lambda", "get_function", reference, FunctionName=reference)
        config: dict[str, Any] = found["Configuration"]
        arn = ":".join(str(config["FunctionArn"]).split(":")[:7])
        reserved = found.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        variables = config.get("Environment", {}).get("Variables", {})
        item = Function(
            name=config["FunctionName"], arn=arn, role_arn=config.get("Role", ""),
            runtime=config.get("Runtime", ""), handler=config.get("Handler", ""),
            # strings, as Lambda always returns them (moto passes CloudFormation's numbers through)
            environment={str(k): str(v) for k, v in variables.items()},
            state=config.get("State", "Active"), state_reason=config.get("StateReason"),
            last_update_status=config.get("LastUpdateStatus", "Successful"),
            last_update_reason=config.get("LastUpdateStatusReason"), reserved_concurrency=reserved)
        gather.once(f"code location {arn}", lambda: found)  # collect/code.py reads the package from it
        log_group = config.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{item.name}"
        return Found(item, dict(found.get("Tags") or {}), log_group)

    return gather.fact("functions", reference, get)


def detail_steps(gather: Gatherer, found: Found, since: datetime | None) -> list[Callable[[], None]]:
    """What GetFunction does not say, as independent steps: the resource policy, a reserved concurrency
    GetFunction left out, when the function last ran and its recent errors."""
    item = found.function
    return [lambda: _policy(gather, item), lambda: _concurrency(gather, item),
            lambda: _logs(gather, item, found.log_group, since)]


def _policy(gather: Gatherer, item: Function) -> None:
    try:
        item.policy = gather.call("lambda", "get_policy", item.name, FunctionName=item.name)["Policy"]
    except AwsFailure as failure:
        if failure.kind == "not_found":  # no resource policy at all: nothing may invoke it but its account
            item.policy = None
            return
        if failure.fatal:
            raise
        gather.record("functions", item.name, failure)


def _concurrency(gather: Gatherer, item: Function) -> None:
    if item.reserved_concurrency is not None:
        return
    # Some endpoints omit a reserved concurrency of 0 from GetFunction: the one value that matters most.
    found = gather.fact("functions", item.name, lambda: gather.call(
        "lambda", "get_function_concurrency", item.name, FunctionName=item.name))
    if found is not None:
        item.reserved_concurrency = found.get("ReservedConcurrentExecutions")


def _logs(gather: Gatherer, item: Function, group: str, since: datetime | None) -> None:
    def newest_stream() -> None:
        streams = gather.call("logs", "describe_log_streams", group, logGroupName=group,
                              orderBy="LastEventTime", descending=True, limit=1).get("logStreams", [])
        stamp = streams[0].get("lastEventTimestamp") if streams else None
        item.last_invocation = datetime.fromtimestamp(stamp / 1000, timezone.utc) if stamp else None

    def recent_errors() -> None:
        now = gather.snapshot.collected_at or datetime.now(timezone.utc)
        start = max(since, now - LOG_LOOKBACK) if since else now - LOG_LOOKBACK
        found: list[str] = []
        times: list[datetime] = []  # the timeline draws each error line when it was logged
        for page in gather.pages("logs", "filter_log_events", group, "nextToken", "nextToken", max_pages=3,
                                 logGroupName=group, startTime=int(start.timestamp() * 1000),
                                 filterPattern=ERROR_FILTER, limit=100):
            for event in page.get("events", []):
                if ERROR_LINE.search(event.get("message", "")):
                    found.append(event["message"].strip())
                    if isinstance(event.get("timestamp"), int):  # else no line is drawn at a guessed time
                        times.append(datetime.fromtimestamp(event["timestamp"] / 1000, timezone.utc))
        item.recent_errors = found[-MAX_ERRORS:]
        item.error_times = times[-MAX_ERRORS:]

    for step in (newest_stream, recent_errors):
        try:
            step()
        except AwsFailure as failure:
            if failure.fatal:
                raise
            if failure.kind == "not_found":  # no log group: the function never ran (or logs elsewhere)
                return
            gather.record("functions", item.name, failure)


def listed(gather: Gatherer, max_pages: int = 20) -> dict[str, tuple[str, list[str]]]:
    """Without a stack to ask: the region's functions (ListFunctions), name -> (ARN, environment values),
    so that values naming a function are recognised and the functions sharing a table are found."""
    def scan() -> dict[str, tuple[str, list[str]]]:
        names: dict[str, tuple[str, list[str]]] = {}
        for page in gather.pages("lambda", "list_functions", gather.region, "Marker", "NextMarker",
                                 max_pages=max_pages):
            for config in page.get("Functions", []):
                values = [str(v) for v in (config.get("Environment") or {}).get("Variables", {}).values()]
                names[config["FunctionName"]] = (":".join(str(config["FunctionArn"]).split(":")[:7]), values)
        return names

    return gather.fact("functions", "", scan) or {}
