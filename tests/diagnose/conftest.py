"""Scenarios for diagnose's acceptance: the sandbox, an operator principal in it, and what each fault
must be diagnosed as."""

from __future__ import annotations

import atexit
import contextlib
import datetime
import json
import os
import select
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.sandbox.world import STUCK_AFTER_REAL_SECONDS, STUCK_AFTER_SECONDS
from drsdoctor.snapshot import fact_actions
from tests.hostile.forkserver import ForkServer

# fault -> (checks that may name it as the root cause, a word the root cause must mention)
EXPECTED: dict[str, tuple[set[str], str]] = {
    "finder-rule-disabled": ({"EVT001"}, "finder"),
    "finder-permission-removed": ({"EVT003"}, "execution-finder"),
    "poller-missing-drs-describe": ({"IAM002"}, "drs:DescribeJobs"),
    "orchestrator-missing-follow-on": ({"IAM001"}, "drs:CreateRecoveryInstanceForDrs"),
    "poller-table-env-mismatch": ({"LMB001"}, "archive"),
    "statemachine-choice-drift": ({"SFN005"}, "Completed"),
    "server-launch-failure": ({"DRS002", "DRS003"}, "stalled"),
}
SANDBOX_KEYS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}


def operator_policy(deny: tuple[str, ...] = ()) -> dict[str, Any]:
    """What `drsdoctor permissions` grants: every read action the Snapshot declares; `deny` taken away."""
    actions = sorted({action for actions in fact_actions().values() for action in actions})
    statements: list[dict[str, Any]] = [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    if deny:
        statements.append({"Effect": "Deny", "Action": list(deny), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def create_operator(iam: Any, name: str, deny: tuple[str, ...] = ()) -> dict[str, str]:
    """An IAM user of the sandbox account; the DRS simulator judges its calls by this policy."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="drsdoctor-read",
                        PolicyDocument=json.dumps(operator_policy(deny)))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def operator_session(endpoint_url: str, credentials: dict[str, str],
                     monkeypatch: pytest.MonkeyPatch) -> AwsSession:
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return AwsSession(AwsSettings(endpoint_url=endpoint_url))


def root_cause_text(report: Any) -> str:
    finding = report.root_cause.finding
    return " ".join([finding.check, finding.resource, finding.detail, finding.remediation, *finding.evidence])


# ---- `drsdoctor sandbox serve` in a subprocess ------------------------------------------------------------

@dataclass
class Served:
    info: dict[str, Any]
    process: subprocess.Popen[str]
    recoveries: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def endpoint_url(self) -> str:
        return str(self.info["endpoint_url"])

    def client(self, service: str, credentials: dict[str, str] = SANDBOX_KEYS) -> Any:
        key = (service, credentials["AWS_ACCESS_KEY_ID"])
        if key not in self.clients:  # one client a service: making one costs a tenth of a second of CPU
            self.clients[key] = boto3.client(
                service, region_name=self.info["region"], endpoint_url=self.endpoint_url,
                aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"])
        return self.clients[key]

    def now(self) -> datetime.datetime:
        with urllib.request.urlopen(self.info["clock_url"], timeout=10) as answer:
            return datetime.datetime.fromisoformat(json.loads(answer.read())["now"])

    def switch_fault(self, fault: str) -> None:
        """Through fault_url: repair the served world's fault, then inject `fault` ("none": stay healthy)."""
        request = urllib.request.Request(self.info["fault_url"], method="POST",
                                         data=json.dumps({"fault": fault}).encode())
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert json.loads(answer.read())["fault"] == fault

    def run_recovery(self, stuck_minutes: float = STUCK_AFTER_SECONDS / 60, real_timeout: float = 150) -> str:
        """Start the first plan and wait until it ends, or nothing about it (execution, wave and DRS job
        statuses) has moved for `stuck_minutes` of simulated time: world.run_until_settled, from outside."""
        sfn = self.client("stepfunctions")
        arn = str(sfn.start_execution(stateMachineArn=self.info["state_machine_arn"],
                                      input=self.info["start_input"])["executionArn"])
        self.recoveries.append(arn)
        started_real = time.monotonic()
        last: tuple[Any, ...] | None = None
        last_change, last_change_real = self.now(), started_real
        while time.monotonic() - started_real < real_timeout:
            now, signature = self.now(), self._progress(arn)
            if signature != last:
                last, last_change, last_change_real = signature, now, time.monotonic()
            if signature[0] != "RUNNING":
                break
            if (signature[1] is not None and (now - last_change).total_seconds() >= stuck_minutes * 60
                    and time.monotonic() - last_change_real >= STUCK_AFTER_REAL_SECONDS):  # as world.py
                break
            time.sleep(0.5)  # the served clock is in another process: poll it
        return arn

    def _progress(self, arn: str) -> tuple[Any, ...]:
        """What changes whenever the recovery moves: its status, its record's waves, DRS jobs' servers."""
        status = self.client("stepfunctions").describe_execution(executionArn=arn)["status"]
        item = self.client("dynamodb").get_item(TableName=self.output("ExecutionHistoryTableName"),
                                                Key={"executionId": {"S": arn}}, ConsistentRead=True)
        record = TypeDeserializer().deserialize({"M": item.get("Item", {})})
        waves = tuple(str(wave.get("status")) for wave in record.get("waves", []))
        jobs = [job for page in self.client("drs").get_paginator("describe_jobs").paginate(filters={})
                for job in page["items"]]
        launches = sorted((job["jobID"], job["status"],
                           tuple(sorted((s["sourceServerID"], s.get("launchStatus", ""))
                                        for s in job.get("participatingServers", []))))
                          for job in jobs)
        return status, record.get("status"), record.get("currentWave"), waves, tuple(launches)

    def output(self, key: str) -> str:
        """An output of the served reference stack, e.g. ExecutionHistoryTableName."""
        if not self.outputs:
            cloudformation = self.client("cloudformation")
            stack = cloudformation.describe_stacks(StackName=self.info["stack_name"])["Stacks"][0]
            self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return self.outputs[key]

    def end_recoveries(self) -> None:
        """Stop what the recoveries left running and close their records, as an operator would, so the
        finder stops polling them and the next scenario's world is quiet."""
        sfn, dynamodb = self.client("stepfunctions"), self.client("dynamodb")
        for arn in self.recoveries:
            if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                sfn.stop_execution(executionArn=arn, cause="scenario over")
            # a record that ended on its own (or never was written) stays as it is
            with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
                dynamodb.update_item(TableName=self.output("ExecutionHistoryTableName"),
                                     Key={"executionId": {"S": arn}}, UpdateExpression="SET #s = :aborted",
                                     ConditionExpression="#s = :polling",
                                     ExpressionAttributeNames={"#s": "status"},
                                     ExpressionAttributeValues={":aborted": {"S": "ABORTED"},
                                                                ":polling": {"S": "POLLING"}})
        self.recoveries.clear()


def serve(fault: str = "none") -> Iterator[Served]:
    process = subprocess.Popen([sys.executable, "-m", "drsdoctor", "sandbox", "serve", "--fault", fault],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 240)
        assert ready, "sandbox serve printed nothing in 240 s"
        yield Served(json.loads(process.stdout.readline()), process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


_FORKS: list[ForkServer] = []  # one a test process, started with its first CLI run


def forks() -> ForkServer:
    """The test process's fork server: each CLI run is a real process with its real exit code, without
    paying for the interpreter's start and drsdoctor's imports every time."""
    if not _FORKS:
        _FORKS.append(ForkServer(Path.cwd()))
        atexit.register(_FORKS[0].close)
    return _FORKS[0]


def run_cli(*args: str, credentials: dict[str, str], endpoint_url: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS", "AWS_SECRET",
                                  "AWS_SESSION"))}
    env.update(credentials)
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return forks().run(list(args), env=env, timeout=timeout, cwd=Path.cwd())


def calls_in_verbose_output(stderr: str) -> list[tuple[str, str]]:
    """The call log `diagnose -v` prints: lines `  service:Operation outcome N ms`."""
    calls = []
    for line in stderr.splitlines():
        if line.startswith("  ") and ":" in line.split()[0] and line.rstrip().endswith(("ms", "retries")):
            service, operation = line.split()[0].split(":", 1)
            calls.append((service, operation))
    return calls
