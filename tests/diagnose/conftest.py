"""Scenarios for diagnose's acceptance: the sandbox, an operator principal in it, and what each fault
must be diagnosed as."""

from __future__ import annotations

import datetime
import json
import os
import select
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.snapshot import fact_actions

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

    @property
    def endpoint_url(self) -> str:
        return str(self.info["endpoint_url"])

    def client(self, service: str, credentials: dict[str, str] = SANDBOX_KEYS) -> Any:
        return boto3.client(service, region_name=self.info["region"], endpoint_url=self.endpoint_url,
                            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"])

    def now(self) -> datetime.datetime:
        with urllib.request.urlopen(self.info["clock_url"], timeout=10) as answer:
            return datetime.datetime.fromisoformat(json.loads(answer.read())["now"])

    def run_recovery(self, stuck_minutes: float = 45, real_timeout: float = 150) -> str:
        """Start the first plan and wait until it ends, or has run `stuck_minutes` of simulated time."""
        sfn = self.client("stepfunctions")
        arn = str(sfn.start_execution(stateMachineArn=self.info["state_machine_arn"],
                                      input=self.info["start_input"])["executionArn"])
        started_real, started = time.monotonic(), self.now()
        while time.monotonic() - started_real < real_timeout:
            if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                break
            if (self.now() - started).total_seconds() >= stuck_minutes * 60:
                break
            time.sleep(0.5)
        return arn


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


def run_cli(*args: str, credentials: dict[str, str], endpoint_url: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS", "AWS_SECRET",
                                  "AWS_SESSION"))}
    env.update(credentials)
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def calls_in_verbose_output(stderr: str) -> list[tuple[str, str]]:
    """The call log `diagnose -v` prints: lines `  service:Operation outcome N ms`."""
    calls = []
    for line in stderr.splitlines():
        if line.startswith("  ") and ":" in line.split()[0] and line.rstrip().endswith(("ms", "retries")):
            service, operation = line.split()[0].split(":", 1)
            calls.append((service, operation))
    return calls
