"""The execution, its history (newest first, only as far back as the checks look) and its state machine."""

from __future__ import annotations

import json
from typing import Any

from drsdoctor.aws.failures import AwsFailure
from drsdoctor.collect.gather import Gatherer
from drsdoctor.collect.target import ExecutionTarget
from drsdoctor.errors import DrsdoctorError, InputError
from drsdoctor.snapshot import Execution, History, HistoryEvent, StateMachine

HISTORY_PAGE = 1000  # GetExecutionHistory's largest page


class ExecutionNotFound(DrsdoctorError):
    """The ARN is well formed but no such execution exists where we looked: exit 3, one line."""

    def __init__(self, target: ExecutionTarget, failure: AwsFailure) -> None:
        super().__init__(f"execution {target.arn} does not exist in {target.region} "
                         f"(account {target.account}): {failure.code}; check the ARN, --profile and "
                         "--endpoint-url")


def execution(gather: Gatherer, target: ExecutionTarget) -> Execution | None:
    try:
        found = gather.call("stepfunctions", "describe_execution", target.arn, executionArn=target.arn)
    except AwsFailure as failure:
        if failure.kind == "not_found":
            raise ExecutionNotFound(target, failure) from None
        if failure.fatal:
            raise
        gather.record("execution", target.arn, failure)
        return None
    return Execution(
        arn=target.arn, status=found["status"], state_machine_arn=found.get("stateMachineArn", ""),
        name=found.get("name", ""), start_date=found.get("startDate"), stop_date=found.get("stopDate"),
        input=found.get("input"), output=found.get("output"), error=found.get("error"),
        cause=found.get("cause"))


def state_machine(gather: Gatherer, arn: str) -> StateMachine | None:
    def describe() -> StateMachine:
        found = gather.call("stepfunctions", "describe_state_machine", arn, stateMachineArn=arn)
        return StateMachine(arn=found["stateMachineArn"], name=found.get("name", ""),
                            type=found.get("type", "STANDARD"), definition=found.get("definition", ""),
                            role_arn=found.get("roleArn", ""), status=found.get("status", "ACTIVE"))

    machine = gather.fact("state_machine", arn, describe)
    if machine is not None and machine.type == "EXPRESS":
        raise InputError(f"{arn} is an EXPRESS state machine: it keeps no execution history to diagnose "
                         "(look in its CloudWatch log group instead)")
    return machine


def history(gather: Gatherer, target: ExecutionTarget, limit: int) -> History | None:
    """The newest `limit` events, paging backwards and stopping as soon as there are enough."""

    def fetch() -> History:
        raw: list[dict[str, Any]] = []
        more = False
        for page in gather.pages("stepfunctions", "get_execution_history", target.arn, "nextToken",
                                 "nextToken", max_pages=max(1, -(-limit // HISTORY_PAGE)),
                                 executionArn=target.arn, reverseOrder=True,
                                 maxResults=min(limit, HISTORY_PAGE)):
            raw.extend(page.get("events", []))
            more = bool(page.get("nextToken"))
            if len(raw) >= limit:
                break
        # Newest first whatever the server did: an endpoint may ignore reverseOrder and maxResults.
        raw.sort(key=lambda event: int(event["id"]), reverse=True)
        total = int(raw[0]["id"]) if raw else 0
        kept = raw[:limit]
        if kept and int(kept[-1]["id"]) != 1:
            kept.extend(_start_event(gather, target))
        return History(events=[_event(item) for item in kept], complete=not more and len(raw) <= limit,
                       total_events=total)

    return gather.fact("history", target.arn, fetch)


def _start_event(gather: Gatherer, target: ExecutionTarget) -> list[dict[str, Any]]:
    page = gather.call("stepfunctions", "get_execution_history", target.arn, executionArn=target.arn,
                       reverseOrder=False, maxResults=1)
    return [event for event in page.get("events", [])[:1] if int(event["id"]) == 1]


def _event(item: dict[str, Any]) -> HistoryEvent:
    details: dict[str, Any] = next((value for key, value in item.items() if key.endswith("EventDetails")), {})
    return HistoryEvent(id=int(item["id"]), type=item["type"], timestamp=item["timestamp"],
                        previous_event_id=int(item.get("previousEventId", 0)), details=dict(details))


def input_of(execution_found: Execution | None, history_found: History | None) -> dict[str, Any]:
    """The execution's input as JSON, from DescribeExecution or else the start event."""
    text = execution_found.input if execution_found else None
    if text is None and history_found:
        start = next((event for event in history_found.events if event.id == 1), None)
        text = start.details.get("input") if start else None
    try:
        loaded = json.loads(text) if text else {}
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}
