"""A small orchestrator built straight in moto (no CloudFormation, no DRS): the collector's unit world."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto import mock_aws

from drsdoctor.aws import AwsSession, AwsSettings

REGION = "eu-west-1"
ACCOUNT = "123456789012"
HISTORY_TABLE = "orch-dev-execution-history"
JOB_ID = "drsjob-0123456789abcdef0"


@dataclass
class World:
    execution_arn: str
    machine_arn: str
    names: dict[str, str]  # orchestration | finder | poller -> function name
    rule: str

    def session(self) -> AwsSession:
        return AwsSession(AwsSettings(region=REGION))


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _role(iam: object, name: str, service: str, actions: list[str]) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])  # type: ignore[attr-defined]
    iam.put_role_policy(RoleName=name, PolicyName="work", PolicyDocument=json.dumps(  # type: ignore[attr-defined]
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    return arn


def build_world(history_table: str = HISTORY_TABLE, finder_rule_state: str = "ENABLED") -> World:
    """Three functions, three tables, a schedule rule, a state machine and one running execution."""
    session = boto3.session.Session(region_name=REGION)
    iam, awslambda = session.client("iam"), session.client("lambda")
    dynamodb, events = session.client("dynamodb"), session.client("events")
    sfn = session.client("stepfunctions")
    names = {kind: f"orch-dev-{kind}" for kind in ("orchestration", "finder", "poller")}
    roles = {kind: _role(iam, f"orch-dev-{kind}-role", "lambda.amazonaws.com", ["drs:*", "dynamodb:*"])
             for kind in names}
    machine_role = _role(iam, "orch-dev-machine-role", "states.amazonaws.com", ["lambda:InvokeFunction"])
    dynamodb.create_table(
        TableName=HISTORY_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "executionId", "AttributeType": "S"},
                              {"AttributeName": "status", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "executionId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "StatusIndex", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}]}])
    for table, key in (("orch-dev-recovery-plans", "planId"), ("orch-dev-protection-groups", "groupId")):
        dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
    environments = {
        "orchestration": {"EXECUTION_TABLE": history_table, "PLANS_TABLE": "orch-dev-recovery-plans",
                          "GROUPS_TABLE": "orch-dev-protection-groups", "DRS_REGION": REGION,
                          "API_TOKEN": "hunter2-not-for-bundles"},
        "finder": {"EXECUTION_TABLE": history_table, "STATUS_INDEX": "StatusIndex",
                   "POLLER_FUNCTION": names["poller"]},
        "poller": {"EXECUTION_TABLE": history_table, "DRS_REGION": REGION},
    }
    arns = {}
    for kind, name in names.items():
        arns[kind] = awslambda.create_function(
            FunctionName=name, Runtime="python3.12", Role=roles[kind], Handler="handler.handler",
            Code={"ZipFile": _zip()}, Environment={"Variables": environments[kind]})["FunctionArn"]
    rule = "orch-dev-finder-schedule"
    events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)", State=finder_rule_state)
    events.put_targets(Rule=rule, Targets=[{"Id": "finder", "Arn": arns["finder"]}])
    awslambda.add_permission(FunctionName=names["finder"], StatementId="events",
                             Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                             SourceArn=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}")
    definition = {"StartAt": "StartWave", "States": {
        "StartWave": {"Type": "Task", "Resource": arns["orchestration"], "Next": "ReadWaveStatus"},
        "ReadWaveStatus": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                           "Parameters": {"FunctionName": names["orchestration"], "Payload.$": "$"},
                           "Next": "Done"},
        "Done": {"Type": "Succeed"}}}
    machine = sfn.create_state_machine(name="orch-dev-recovery", definition=json.dumps(definition),
                                       roleArn=machine_role)["stateMachineArn"]
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"planId": "plan-1"}))
    execution = started["executionArn"]
    dynamodb.put_item(TableName=HISTORY_TABLE, Item={
        "executionId": {"S": execution}, "status": {"S": "POLLING"},
        "updatedAt": {"S": "2026-01-07T10:02:00Z"},
        "waves": {"L": [{"M": {"waveNumber": {"N": "1"}, "name": {"S": "database"},
                               "status": {"S": "UNKNOWN"},
                               "jobIds": {"L": [{"S": JOB_ID}]},
                               "sourceServerIds": {"L": [{"S": "s-1234567890abcdef0"}]}}}]}})
    return World(execution, machine, names, rule)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def world(aws_env: None) -> World:
    return build_world()
