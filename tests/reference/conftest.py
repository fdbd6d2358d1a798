"""The reference orchestrator deployed from its template into moto, and DRS served by the project's simulator.

Handlers run in-process with exactly the environment CloudFormation gave their function, plain boto3
clients, moto for DynamoDB/Lambda, and the DRS simulator on loopback (AWS_ENDPOINT_URL_DRS).
"""

from __future__ import annotations

import importlib
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.endpoint
import botocore.retries.bucket
import pytest
from moto import mock_aws
from werkzeug.serving import WSGIRequestHandler, make_server

from drsdoctor import reference
from drsdoctor.reference import records
from drsdoctor.reference.functions import orchestration
from drsdoctor.sandbox.drs.model import DrsModel
from drsdoctor.sandbox.drs.wire import DrsWireApp
from tests.fakes import FakeClock

REGION = "us-east-1"
MODULES = {"OrchestrationFunction": "orchestration", "ExecutionFinderFunction": "execution_finder",
           "ExecutionPollerFunction": "execution_poller"}


@dataclass
class Drs:
    """The simulator and the knobs tests turn: denied actions, throttled operations, call counts."""

    model: DrsModel
    url: str
    clock: FakeClock
    denied: set[str] = field(default_factory=set)
    throttle_next: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    backoffs: list[float] = field(default_factory=list)

    def authorize(self, _principal: str, action: str, _resource: str) -> bool:
        return action not in self.denied

    def throttle(self, operation: str) -> bool:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if self.throttle_next.get(operation, 0) > 0:
            self.throttle_next[operation] -= 1
            return True
        return False

    def servers(self, count: int, prefix: str = "host") -> list[str]:
        return [self.model.add_source_server(f"{prefix}-{n}").source_server_id for n in range(count)]

    def jobs(self) -> list[dict[str, Any]]:
        client = boto3.client("drs", region_name=REGION, endpoint_url=self.url)
        return [job for page in client.get_paginator("describe_jobs").paginate() for job in page["items"]]


class RetryClock:
    """botocore's adaptive-retry clock: the client-side rate limiter's waits move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0  # small numbers: tiny waits still move it (a wall-clock epoch would swallow them)
        self.waits: list[float] = []

    def sleep(self, amount: float) -> None:
        self.now += amount
        self.waits.append(amount)

    def current_time(self) -> float:
        return self.now

    def condition(self, lock: Any = None) -> threading.Condition:
        clock = self

        class Waiting(threading.Condition):
            def wait(self, timeout: float | None = None) -> bool:
                clock.sleep(max(timeout or 0, 0.001))
                return False

        return Waiting(lock)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


AWS_ENVIRONMENT = {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing"}


def isolate_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DRS", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_aws(monkeypatch)


@pytest.fixture
def drs(aws_env: None, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Drs]:
    """A fresh DRS per test (a module may set DRS_PHASES to make jobs shorter)."""
    clock = FakeClock()
    model = DrsModel(region=REGION, now=clock, phases=getattr(request.module, "DRS_PHASES", None))
    holder: dict[str, Drs] = {}
    app = DrsWireApp(model, authorize=lambda *args: holder["drs"].authorize(*args),
                     throttle=lambda operation: holder["drs"].throttle(operation))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    holder["drs"] = Drs(model=model, url=url, clock=clock)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", url)
    # botocore's retry backoff is recorded instead of slept: the tests assert on it, not wait for it
    patient = types.ModuleType("time")
    patient.__dict__.update(vars(time))
    patient.sleep = lambda seconds: holder["drs"].backoffs.append(seconds)  # type: ignore[attr-defined]
    monkeypatch.setattr(botocore.endpoint, "time", patient)
    retry_clock = RetryClock()
    monkeypatch.setattr(botocore.retries.bucket, "Clock", lambda: retry_clock)
    monkeypatch.setattr(botocore.retries.bucket, "threading",
                        types.SimpleNamespace(Lock=threading.Lock, Condition=retry_clock.condition))
    # the functions and DRS share one clock, as they share the wall clock in a real account
    monkeypatch.setattr(orchestration, "now_epoch", lambda: clock.now.timestamp())
    try:
        yield holder["drs"]
    finally:
        server.shutdown()
        thread.join(timeout=5)


@dataclass
class Stack:
    """The deployed reference stack: its outputs and each function's deployed environment."""

    outputs: dict[str, str]
    environments: dict[str, dict[str, str]]
    monkeypatch: pytest.MonkeyPatch

    def table(self, output: str) -> Any:
        return boto3.resource("dynamodb", region_name=REGION).Table(self.outputs[output])

    def run(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run one function's handler as Lambda would: only its own deployed environment variables."""
        for environment in self.environments.values():
            for name in environment:
                self.monkeypatch.delenv(name, raising=False)
        for name, value in self.environments[logical_id].items():
            self.monkeypatch.setenv(name, str(value))
        module = importlib.import_module(f"drsdoctor.reference.functions.{MODULES[logical_id]}")
        return module.handler(event, None)

    def orchestrate(self, action: str, **fields: Any) -> Any:
        return self.run("OrchestrationFunction", {"action": action, **fields})

    def poll(self, execution_id: str) -> Any:
        return self.run("ExecutionPollerFunction", {"executionId": execution_id})

    def record(self, execution_id: str) -> dict[str, Any]:
        item = self.table("ExecutionHistoryTableName").get_item(
            Key={"executionId": execution_id}, ConsistentRead=True)["Item"]
        return dict(item)

    def seed_plan(self, plan_id: str, waves: list[list[str]]) -> dict[str, Any]:
        """One protection group per wave holding the given servers, and a plan running them in order."""
        groups = [records.protection_group(f"{plan_id}-pg-{n}", f"group {n}", servers)
                  for n, servers in enumerate(waves, start=1)]
        for group in groups:
            self.table("ProtectionGroupsTableName").put_item(Item=group)
        plan = records.recovery_plan(plan_id, plan_id, [(f"wave {n}", [group["groupId"]])
                                                        for n, group in enumerate(groups, start=1)])
        self.table("RecoveryPlansTableName").put_item(Item=plan)
        return plan


Deployment = tuple[dict[str, str], dict[str, dict[str, str]]]  # outputs, each function's environment


def deploy_reference(parameters: dict[str, str] | None = None) -> Deployment:
    """Upload the code zip to moto's S3 and create the stack from the unchanged template."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="reference-code")
    s3.put_object(Bucket="reference-code", Key="functions.zip", Body=reference.build_code_zip())
    values = {**reference.DEFAULT_PARAMETERS, "CodeBucket": "reference-code", "CodeKey": "functions.zip",
              **(parameters or {})}
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(
        StackName="reference", TemplateBody=reference.template_text(), Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()])
    stack = cloudformation.describe_stacks(StackName="reference")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    lambda_client = boto3.client("lambda", region_name=REGION)
    environments = {}
    for logical_id in MODULES:
        name = cloudformation.describe_stack_resource(StackName="reference", LogicalResourceId=logical_id)[
            "StackResourceDetail"]["PhysicalResourceId"]
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        environments[logical_id] = {key: str(value) for key, value in
                                    configuration["Environment"]["Variables"].items()}
    return outputs, environments


MOTO_CONFIG: Any = {"lambda": {"use_docker": False},
                               "stepfunctions": {"execute_state_machine": True}}


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """One deployment per test module (a module may set REFERENCE_PARAMETERS); tests share it."""
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws(config=MOTO_CONFIG):
        isolate_aws(monkeypatch)
        yield deploy_reference(getattr(request.module, "REFERENCE_PARAMETERS", None))


@pytest.fixture
def stack(deployment: Deployment, aws_env: None,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The module's deployment with empty tables."""
    outputs, environments = deployment
    deployed = Stack(outputs, environments, monkeypatch)
    yield deployed
    for output, key in (("ExecutionHistoryTableName", "executionId"), ("RecoveryPlansTableName", "planId"),
                        ("ProtectionGroupsTableName", "groupId")):
        table = deployed.table(output)
        for item in table.scan(ProjectionExpression=key)["Items"]:
            table.delete_item(Key={key: item[key]})


StartExecution = Callable[[str, list[list[str]]], str]


@pytest.fixture
def started_wave(stack: Stack, drs: Drs) -> Callable[..., str]:
    """Begin a plan over fresh DRS servers and start its first wave; returns the execution id."""

    def start(servers_per_wave: tuple[int, ...] = (2,), execution_id: str = "arn:aws:states:us-east-1:"
              "123456789012:execution:drs-orchestrator-dev-recovery:run-1") -> str:
        waves = [drs.servers(count, prefix=f"wave{n}") for n, count in enumerate(servers_per_wave)]
        stack.seed_plan("plan-1", waves)
        stack.orchestrate("begin_plan", executionId=execution_id, planId="plan-1")
        stack.orchestrate("start_wave", executionId=execution_id, waveIndex=0)
        return execution_id

    return start
