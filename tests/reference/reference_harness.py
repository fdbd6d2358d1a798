"""Run the reference state machine for real in moto's Step Functions engine, with the functions' own code.

Without Docker, moto lands every Lambda invocation in LambdaSimpleBackend.invoke: there we run the
handler with its function's deployed environment. Wait states advance the test clock instead of sleeping,
and the EventBridge schedule is modelled by running the execution-finder at every simulated minute.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from drsdoctor import reference

REGION = "us-east-1"


class FunctionRunner:
    """Dispatches moto's Lambda invocations to the reference handlers, one at a time."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.lock = threading.RLock()
        self.invocations: list[tuple[str, str, dict[str, Any]]] = []
        self.retry_pauses: list[float] = []
        self.names = {stack.outputs[output]: logical for output, logical in (
            ("OrchestrationFunctionName", "OrchestrationFunction"),
            ("ExecutionFinderFunctionName", "ExecutionFinderFunction"),
            ("ExecutionPollerFunctionName", "ExecutionPollerFunction"))}

    def invoke(self, function_name: str, body: Any, headers: Any, response_headers: dict[str, str]) -> bytes:
        name = function_name.split(":function:")[-1].split(":")[0]
        event = json.loads(body or "{}")
        with self.lock:
            kind = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
            self.invocations.append((name, kind, event))
            saved = dict(os.environ)
            try:
                result = self.stack.run(self.names[name], event)
            except Exception as error:  # Lambda's error shape: errorType is the exception's class name
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorMessage": str(error), "errorType": type(error).__name__,
                                   "stackTrace": traceback.format_exc().splitlines()}).encode()
            finally:
                os.environ.clear()
                os.environ.update(saved)
        return json.dumps(result).encode()


@contextmanager
def running_functions(stack: Any, drs: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FunctionRunner]:
    """Handlers behind moto's Lambda; Wait states move the clock and fire the finder every minute."""
    runner = FunctionRunner(stack)
    finder = stack.outputs["ExecutionFinderFunctionName"]

    def invoke(_backend: Any, function_name: str, _qualifier: Any, body: Any, headers: Any,
               response_headers: Any) -> bytes:
        return runner.invoke(function_name, body, headers, response_headers)

    def wait(_self: Any, env: Any, wait_seconds: int) -> None:
        end = drs.clock.now.timestamp() + int(wait_seconds)
        while True:  # the schedule fires on every simulated minute the wait crosses
            minute = (int(drs.clock.now.timestamp()) // 60 + 1) * 60
            if minute > end:
                break
            drs.clock.advance(minute - drs.clock.now.timestamp())
            boto3.client("lambda", region_name=REGION).invoke(FunctionName=finder, InvocationType="Event",
                                                              Payload=b"{}")
        drs.clock.advance(end - drs.clock.now.timestamp())

    def retry_pause(seconds: float) -> None:  # a state's Retry interval passes on the test clock
        runner.retry_pauses.append(seconds)
        drs.clock.advance(seconds)

    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=retry_pause))
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    monkeypatch.setattr(WaitFunction, "_wait_interval", wait)
    yield runner


def create_state_machine(stack: Any) -> str:
    """The template's definition, with the deployed function's ARN where CloudFormation puts it."""
    lambda_client = boto3.client("lambda", region_name=REGION)
    function_arn = lambda_client.get_function_configuration(
        FunctionName=stack.outputs["OrchestrationFunctionName"])["FunctionArn"]
    definition = reference.template()["Resources"]["RecoveryStateMachine"]["Properties"]["DefinitionString"]
    text = definition["Fn::Sub"].replace("${OrchestrationFunction.Arn}", function_arn)
    assert "${" not in text
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    return str(stepfunctions.create_state_machine(
        name=f"reference-recovery-{uuid.uuid4().hex[:8]}", definition=text,
        roleArn="arn:aws:iam::123456789012:role/drs-orchestrator-dev-state-machine-role")["stateMachineArn"])


def run_execution(state_machine_arn: str, plan_id: str, deadline_seconds: float = 120) -> dict[str, Any]:
    """Start an execution and wait for it to end (moto runs it in a thread); returns the description."""
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    execution_arn = stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=uuid.uuid4().hex,
                                                  input=json.dumps({"planId": plan_id}))["executionArn"]
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        described = stepfunctions.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.02)  # moto's engine runs on real threads: this waits for it, not for simulated time
    raise AssertionError(f"execution still RUNNING after {deadline_seconds}s")


def history(execution_arn: str) -> list[dict[str, Any]]:
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    pages = stepfunctions.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def events_by_state(events: list[dict[str, Any]]) -> dict[str, int]:
    """How many history events each state produced (an event belongs to the state entered last)."""
    counts: dict[str, int] = {}
    current = "(execution)"
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            current = entered["name"]
        counts[current] = counts.get(current, 0) + 1
        if event.get("stateExitedEventDetails"):
            current = "(execution)"
    return counts


def state_entries(events: list[dict[str, Any]], state: str) -> int:
    return sum(1 for event in events if (event.get("stateEnteredEventDetails") or {}).get("name") == state)
