"""DRS in a second account (issue 14): one served world per cross-account orchestrator, faults switched in it.

The orchestrator runs in the sandbox's account; DRS, the plan's source servers and the recovery role are in a
second account (moto keeps them apart). drsdoctor finds the account and role from the functions' code and
environment, reads DRS there with the orchestrator's own role (or one the operator names), and names each
fault's root cause; an operator who cannot reach the second account gets exit 3 and no verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.checkapi import Finding
from drsdoctor.collect import collect
from drsdoctor.engine import diagnose as run_checks
from drsdoctor.sandbox.orchestrators.xaccount import AUDITOR_ROLE, OTHER_ACCOUNT, RECOVERY_ACCOUNT, role_arn
from tests.diagnose.conftest import SANDBOX_KEYS, Served, create_operator, run_cli

pytestmark = pytest.mark.slow
AUDITOR = role_arn(AUDITOR_ROLE)


def serve_orchestrator(orchestrator: str) -> Iterator[Served]:
    process = subprocess.Popen([sys.executable, "-m", "drsdoctor", "sandbox", "serve", "--orchestrator",
                                orchestrator, "--waves", "1", "--servers-per-wave", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        yield Served(json.loads(process.stdout.readline()), process)
    finally:
        process.terminate()
        process.wait(timeout=60)


def run(world: Served, fault: str, minutes: float | None = None) -> str:
    """Switch to `fault`, start the plan, wait until the execution ends (or, given `minutes`, until that much
    simulated time passed: a stuck run is stopped there)."""
    world.switch_fault(fault)
    sfn = world.client("stepfunctions")
    arn = str(sfn.start_execution(stateMachineArn=world.info["state_machine_arn"],
                                  input=world.info["start_input"])["executionArn"])
    began, started = world.now(), time.monotonic()
    while time.monotonic() - started < 240:
        if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            break
        if minutes is not None and (world.now() - began).total_seconds() >= minutes * 60:
            sfn.stop_execution(executionArn=arn, cause="scenario over")  # its facts stay as they were
            break
        time.sleep(0.3)  # the served clock is in another process: poll it
    return arn


def diagnose(world: Served, arn: str, credentials: dict[str, str],
             *options: str) -> tuple[int, dict[str, Any]]:
    """`drsdoctor diagnose --format json` as the operator runs it: exit code and report."""
    done = run_cli("diagnose", arn, "--format", "json", *options, credentials=credentials,
                   endpoint_url=world.endpoint_url)
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def session(world: Served, credentials: dict[str, str], *assume_roles: str) -> AwsSession:
    found = AwsSession(AwsSettings(endpoint_url=world.endpoint_url, region=world.info["region"],
                                   assume_roles=assume_roles))
    found._boto = boto3.session.Session(aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                                        region_name=world.info["region"])
    return found


def root_cause(world: Served, arn: str, credentials: dict[str, str], *assume_roles: str) -> Finding:
    """The root cause diagnose names, in this process (the CLI's exit codes are proven above)."""
    report = run_checks(collect(arn, session(world, credentials, *assume_roles)))
    assert report.root_cause is not None, [f.detail for f in report.findings if f.status == "fail"]
    return report.root_cause.finding


def failing(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["status"] == "fail"]


@pytest.fixture(scope="module")
def reference() -> Iterator[Served]:
    yield from serve_orchestrator("reference-xaccount")


@pytest.fixture(scope="module")
def operator(reference: Served) -> dict[str, str]:
    return create_operator(reference.client("iam"), "xaccount-operator")


def test_a_healthy_recovery_in_another_account_is_read_there(reference: Served,
                                                             operator: dict[str, str]) -> None:
    arn = run(reference, "none")
    report = run_checks(collect(arn, session(reference, operator)))
    assert report.root_cause is None and report.exit_code == 0, [f.detail for f in report.findings
                                                                 if f.status == "fail"]
    by_check = {finding.check: finding for finding in report.findings}
    assert by_check["XAC001"].status == "pass" and RECOVERY_ACCOUNT in by_check["XAC001"].detail
    assert by_check["DRS001"].status == "pass"  # the jobs were read in the recovery account
    assert by_check["XAC002"].status == "pass"

    # an operator who may not assume any role there: the jobs are missing, said why, and no verdict
    blocked = create_operator(reference.client("iam"), "xaccount-blocked", deny=("sts:AssumeRole",))
    code, found = diagnose(reference, arn, blocked)
    assert code == 3 and found["root_cause"] is None and not failing(found)
    reach = next(f for f in found["findings"] if f["check"] == "XAC001")
    assert reach["status"] == "error" and "drs_jobs" in reach["detail"]
    assert "AccessDenied" in " ".join(reach["evidence"]) and RECOVERY_ACCOUNT in reach["detail"]
    assert next(f for f in found["findings"] if f["check"] == "DRS001")["status"] == "error"


def test_a_trust_policy_without_the_orchestrators_account(reference: Served,
                                                          operator: dict[str, str]) -> None:
    arn = run(reference, "recovery-trust-drops-account")
    # read with a role the operator names: the trust policy itself is the evidence
    cause = root_cause(reference, arn, operator, AUDITOR)
    assert cause.check == "XAC002" and OTHER_ACCOUNT in cause.detail
    assert "update-assume-role-policy" in cause.remediation and RECOVERY_ACCOUNT in cause.remediation
    # without it the operator cannot reach the account either: the refusal in the logs is the evidence
    cause = root_cause(reference, arn, operator)
    assert cause.check == "XAC002" and any("AssumeRole" in line for line in cause.evidence)


def test_a_recovery_role_without_start_recovery(reference: Served, operator: dict[str, str]) -> None:
    cause = root_cause(reference, run(reference, "recovery-role-missing-start-recovery"), operator)
    assert cause.check == "IAM001" and "drs:StartRecovery" in cause.detail
    assert cause.resource == role_arn("drs-orchestrator-sandbox-recovery")  # the role in the recovery account
    # its fix is run there: the command names the role, the note names the account and not the home one's
    assert cause.remedy is not None and "put-role-policy" in cause.remedy.line
    assert f"run it in account {RECOVERY_ACCOUNT}, where the role is" in cause.remedy.note


def test_drs_polled_in_another_region_than_the_jobs(reference: Served, operator: dict[str, str]) -> None:
    cause = root_cause(reference, run(reference, "drs-polled-wrong-region", minutes=10), operator)
    assert cause.check == "XAC003" and "us-west-2" in cause.detail and "us-east-1" in cause.detail


@pytest.mark.expects_refused_calls
def test_assumed_sessions_stay_read_only_and_logged(reference: Served) -> None:
    from drsdoctor.aws import MutatingCallRefused
    from drsdoctor.aws.accounts import assumed

    home = session(reference, SANDBOX_KEYS)
    there = assumed(home, AUDITOR)
    assert there.client("drs").describe_jobs(filters={})["items"] is not None
    with pytest.raises(MutatingCallRefused):
        there.client("drs").start_recovery(sourceServers=[{"sourceServerID": "s-1234567890abcdef0"}])
    operations = [(record.service, record.operation) for record in home.call_log.records]
    assert ("sts", "AssumeRole") in operations and ("drs", "DescribeJobs") in operations
