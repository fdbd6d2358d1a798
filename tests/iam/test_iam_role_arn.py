"""`--role-arn` against a live endpoint (moto as a server): read-only IAM calls, then the local engine."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import boto3
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from drsdoctor.cli import cli, main

POLLER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadJobs",
            "Effect": "Allow",
            "Resource": "*",
            "Action": ["drs:DescribeJobs", "drs:DescribeJobLogItems", "drs:DescribeSourceServers"],
        },
        {
            "Sid": "WaveStatus",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            "Resource": "*",
        },
        {"Sid": "Logs", "Effect": "Allow", "Action": "logs:*", "Resource": "*"},
    ],
}


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_deployed_role_missing_a_poller_action_is_found(endpoint: str) -> None:
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
    arn = iam.create_role(
        RoleName="drs-poller",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    iam.put_role_policy(RoleName="drs-poller", PolicyName="poller", PolicyDocument=json.dumps(POLLER))
    outcome = CliRunner().invoke(
        cli,
        [
            "iam",
            "simulate",
            "--role-arn",
            arn,
            "--role-kind",
            "poller",
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--format",
            "json",
            "-v",
        ],
    )
    assert outcome.exit_code == 1, (outcome.output, repr(outcome.exception))
    report = json.loads(outcome.stdout)
    # -v: the read-only calls made, on stderr (the simulation call was tried, then the local engine)
    assert "iam:GetRole ok" in outcome.stderr and "iam:GetRolePolicy ok" in outcome.stderr
    assert "iam:SimulatePrincipalPolicy" in outcome.stderr
    assert report["Engine"] == "local"  # moto answers SimulatePrincipalPolicy with an error
    assert report["Principal"] == {"Arn": arn, "Source": "aws", "Unresolved": []}
    denied = [r["EvalActionName"] for r in report["EvaluationResults"] if r["EvalDecision"] != "allowed"]
    assert denied == ["drs:DescribeRecoveryInstances"]
    [read_jobs] = [r for r in report["EvaluationResults"] if r["EvalActionName"] == "drs:DescribeJobs"]
    assert read_jobs["MatchedStatements"][0]["SourcePolicyId"] == "poller"
    assert read_jobs["MatchedStatements"][0]["SourcePolicyType"] == "role"


def test_unknown_role_exits_3_with_the_missing_call(
    endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "iam",
                "simulate",
                "--role-arn",
                "arn:aws:iam::123456789012:role/nope",
                "--action",
                "drs:StartRecovery",
                "--endpoint-url",
                endpoint,
            ]
        )
    assert exited.value.code == 3
    error = capsys.readouterr().err
    assert error.startswith("drsdoctor: iam:GetRole on nope failed: NoSuchEntity")
    assert len(error.strip().splitlines()) == 1
