"""Needs from code: a function's boto3 calls, read with ast, as IAM actions through botocore's models, with
the resources the environment names, the assumed roles they are made with, and where each call is."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

import pytest

from drsdoctor.iam.code_calls import Env, Input, Text
from drsdoctor.iam.code_needs import Place, needs_of, read_code, resource_arn, sources_of
from drsdoctor.iam.drs_needs import follow_on_actions
from drsdoctor.iam.principal import load_role_from_template

REFERENCE = Path(__file__).parents[2] / "drsdoctor" / "reference"
PLACE = Place("aws", "us-east-1", "111122223333")


Row = tuple[str, str, tuple[tuple[str, object], ...], object]  # action, file:line, resource arguments, role


def needs(code: str, handler: str = "app.handler") -> list[Row]:
    reading = needs_of({"app.py": textwrap.dedent(code)}, handler)
    assert reading.problems == []
    return [(n.action, ",".join(n.where), n.resource, n.role) for n in reading.needs if not n.follow_on]


CASES = [
    ("a client, made inline", """
        import boto3
        def handler(event, context):
            return boto3.client("drs").describe_jobs()
        """, [("drs:DescribeJobs", "app.py:4", (), None)]),
    ("a session's client, its operation renamed as IAM names it", """
        import os, boto3
        def handler(event, context):
            session = boto3.Session()
            session.client("lambda").invoke(FunctionName=os.environ["NEXT"])
        """, [("lambda:InvokeFunction", "app.py:5", (("FunctionName", Env("NEXT")),), None)]),
    ("boto3.session.Session().client, the prefix the model signs with", """
        import boto3.session
        def handler(event, context):
            boto3.session.Session().client("stepfunctions").start_execution(stateMachineArn="arn:x")
        """, [("states:StartExecution", "app.py:4", (("stateMachineArn", Text("arn:x")),), None)]),
    ("a client in a module global", """
        import boto3
        DRS = boto3.client("drs")
        def handler(event, context):
            DRS.describe_source_servers()
        """, [("drs:DescribeSourceServers", "app.py:5", (), None)]),
    ("a client kept in an attribute", """
        import os, boto3
        class Store:
            def __init__(self):
                self.client = boto3.client("dynamodb")
            def load(self, key):
                return self.client.get_item(TableName=os.environ["HISTORY"], Key=key)
        def handler(event, context):
            return Store().load(event["key"])
        """, [("dynamodb:GetItem", "app.py:7", (("TableName", Env("HISTORY")),), None)]),
    ("a client made lazily in a global", """
        import boto3
        _ec2 = None
        def ec2():
            global _ec2
            if _ec2 is None:
                _ec2 = boto3.client("ec2")
            return _ec2
        def handler(event, context):
            ec2().describe_instances()
        """, [("ec2:DescribeInstances", "app.py:10", (), None)]),
    ("a DynamoDB table of the resource API, named by the environment", """
        import os, boto3
        def table(variable):
            return boto3.resource("dynamodb").Table(os.environ[variable])
        def handler(event, context):
            table("PLANS").query(KeyConditionExpression="x")
            table("HISTORY").batch_writer()
        """, [("dynamodb:Query", "app.py:6", (("TableName", Env("PLANS")),), None),
              ("dynamodb:BatchWriteItem", "app.py:7", (("TableName", Env("HISTORY")),), None)]),
    ("a paginator and a waiter are the operations they call", """
        import os, boto3
        def handler(event, context):
            drs = boto3.client("drs")
            for page in drs.get_paginator("describe_job_log_items").paginate(jobID="j"):
                pass
            boto3.client("dynamodb").get_waiter("table_exists").wait(TableName=os.getenv("T"))
        """, [("drs:DescribeJobLogItems", "app.py:5", (), None),
              ("dynamodb:DescribeTable", "app.py:7", (("TableName", Env("T")),), None)]),
    ("a client passed to another function, through a dispatch table", """
        import boto3
        def start(drs, event):
            return drs.start_recovery(sourceServers=[], tags={"wave": "1"})
        ACTIONS = {"start": start}
        def handler(event, context):
            return ACTIONS[event["action"]](boto3.client("drs"), event)
        """, [("drs:StartRecovery", "app.py:4", (), None), ("drs:TagResource", "app.py:4", (), None)]),
    ("calls with an assumed role's credentials are that role's", """
        import os, boto3
        def handler(event, context):
            sts = boto3.client("sts")
            creds = sts.assume_role(RoleArn=os.environ["LAUNCHER"], RoleSessionName="drs")["Credentials"]
            drs = boto3.client("drs", aws_access_key_id=creds["AccessKeyId"],
                               aws_secret_access_key=creds["SecretAccessKey"],
                               aws_session_token=creds["SessionToken"])
            drs.describe_jobs()
        """, [("sts:AssumeRole", "app.py:5", (("RoleArn", Env("LAUNCHER")),), None),
              ("drs:DescribeJobs", "app.py:9", (), Env("LAUNCHER"))]),
    ("a role named by the event, through a session", """
        import boto3
        def handler(event, context):
            answer = boto3.client("sts").assume_role(RoleArn=event["roleArn"], RoleSessionName="x")
            keys = answer["Credentials"]
            session = boto3.Session(aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["x"])
            session.client("drs").describe_source_servers()
        """, [("sts:AssumeRole", "app.py:4", (("RoleArn", Input(("roleArn",))),), None),
              ("drs:DescribeSourceServers", "app.py:7", (), Input(("roleArn",)))]),
    ("a function the handler never reaches is not a need", """
        import boto3
        def unused():
            boto3.client("ec2").terminate_instances(InstanceIds=["i-1"])
        def handler(event, context):
            boto3.client("drs").describe_jobs()
        """, [("drs:DescribeJobs", "app.py:6", (), None)]),
]


@pytest.mark.parametrize(("name", "code", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_form_of_call_is_an_action(name: str, code: str, expected: list[object]) -> None:
    assert sorted(needs(code), key=str) == sorted(expected, key=str)


def test_start_recovery_brings_drs_follow_on_actions_at_its_line() -> None:
    reading = needs_of({"app.py": "import boto3\nboto3.client('drs').start_recovery(sourceServers=[])\n"})
    follow_on = {n.action for n in reading.needs if n.follow_on}
    assert follow_on == set(follow_on_actions())
    assert {n.where for n in reading.needs} == {("app.py:2",)}


def test_what_cannot_be_read_is_said() -> None:
    reading = needs_of({"bad.py": "def (:", "app.py": "import boto3\nboto3.client('nosuchservice').go()\n"})
    assert any(problem.startswith("bad.py") for problem in reading.problems)
    assert any("nosuchservice" in problem for problem in reading.problems)
    assert reading.needs == []


def test_resources_come_from_the_deployed_environment() -> None:
    [query, invoke] = needs_of({"app.py": textwrap.dedent("""
        import os, boto3
        def handler(event, context):
            boto3.client("dynamodb").query(TableName=os.environ["T"], IndexName=os.environ["I"])
            boto3.client("lambda").invoke(FunctionName=os.environ["F"])
        """)}, "app.handler").needs
    function = "arn:aws:lambda:us-east-1:111122223333:function:p"
    environment = {"T": "history", "I": "by-status", "F": f"{function}:live"}
    assert resource_arn(query, environment, PLACE) == \
        "arn:aws:dynamodb:us-east-1:111122223333:table/history/index/by-status"
    assert resource_arn(invoke, environment, PLACE) == function
    assert resource_arn(query, {}, PLACE) is None  # not told: the caller decides (never silently `*`)


def test_a_zip_is_read_without_the_libraries_it_bundles(tmp_path: Path) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("app.py", "import boto3\nboto3.client('drs').describe_jobs()\n")
        archive.writestr("lib/helper.py", "import boto3\nboto3.client('ec2').run_instances()\n")
        archive.writestr("lib/helper-1.0.dist-info/RECORD", "helper.py,sha256=x,10\n")
    assert sorted(sources_of(data.getvalue())) == ["app.py"]
    (tmp_path / "code.zip").write_bytes(data.getvalue())
    assert read_code(tmp_path / "code.zip").actions() == ["drs:DescribeJobs"]


@pytest.mark.parametrize(("handler", "role", "granted_not_called"), [
    ("execution_finder.handler", "ExecutionFinderRole", set()),
    ("execution_poller.handler", "ExecutionPollerRole", set()),
    # the template also grants a Query the code no longer makes, and a security group DRS may create
    ("orchestration.handler", "OrchestrationRole", {"dynamodb:Query", "ec2:CreateSecurityGroup"}),
])
def test_the_reference_code_needs_what_its_template_grants(handler: str, role: str,
                                                           granted_not_called: set[str]) -> None:
    derived = set(read_code(REFERENCE / "functions", handler).actions())
    principal = load_role_from_template(REFERENCE / "template.yaml", role)
    granted = {action for policy in principal.policies.identity for statement in policy.statements
               if statement.effect == "Allow" for action in statement.actions}
    granted = {action for action in granted if not action.startswith("logs:")}  # Lambda's, not the code's
    assert derived <= granted
    assert granted - derived == granted_not_called
