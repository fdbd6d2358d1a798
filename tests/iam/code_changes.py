"""Changing a sandbox world's function code and roles through the public APIs, and putting them back: for the
tests of roles judged on what their function's deployed code calls (tests/diagnose/test_scenarios.py)."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from drsdoctor.commands.diagnose import diagnose_execution
from drsdoctor.reference import function_sources
from tests.diagnose.conftest import operator_session

POLLER_EC2 = "\n    boto3.client('ec2').describe_instances()  # added: the poller now looks at instances\n"
ASSUMED_DRS = '''
def drs_client() -> Any:
    credentials = boto3.client("sts").assume_role(
        RoleArn=os.environ["LAUNCH_ROLE"], RoleSessionName="waves")["Credentials"]
    return boto3.client("drs", region_name=os.environ["DRS_REGION"],
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])
'''


def _zip(sources: dict[str, str]) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, text in sources.items():
            archive.writestr(name, text)
    return data.getvalue()


@contextmanager
def deployed(world: Any, role: str, sources: dict[str, str], environment: dict[str, str] | None = None
             ) -> Iterator[None]:
    """The function deployed from this code (and with these extra variables) until the block ends."""
    s3, functions = world.client("s3"), world.client("lambda")
    name = world.function_name(role)
    before = functions.get_function(FunctionName=name)["Configuration"]
    bucket = s3.list_buckets()["Buckets"][0]["Name"]  # the sandbox's code bucket
    s3.put_object(Bucket=bucket, Key=f"changed/{role}.zip", Body=_zip(sources))
    functions.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key=f"changed/{role}.zip")
    variables = {k: str(v) for k, v in before.get("Environment", {}).get("Variables", {}).items()}
    if environment:
        functions.update_function_configuration(FunctionName=name,
                                                Environment={"Variables": {**variables, **environment}})
    try:
        yield
    finally:
        functions.update_function_code(FunctionName=name, S3Bucket=bucket,
                                       S3Key="drs-orchestrator/functions.zip")
        functions.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def findings_of(world: Any, execution: str, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                check: str) -> list[Any]:
    """One check's findings in a diagnosis of `execution` as the deployment is now."""
    session = operator_session(world.endpoint_url, operator, monkeypatch)
    _, report = diagnose_execution(execution, session)
    packages = [fetch.params for fetch in session.call_log.fetches]
    assert packages and len(packages) == len(set(packages))  # each package read once, whoever runs it
    return [f for f in report.findings if f.check == check]


def _without_drs(document: dict[str, Any], launcher: str) -> dict[str, Any]:
    kept = [s for s in document["Statement"]
            if not any(str(a).startswith(("drs:", "ec2:", "iam:")) for a in _list(s["Action"]))]
    kept.append({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": launcher})
    return {**document, "Statement": kept}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@contextmanager
def assuming(world: Any, launcher_exists: bool) -> Iterator[str]:
    """The orchestration function makes its DRS calls with a role it assumes; its own role has no DRS."""
    iam = world.client("iam")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    [role_name] = [name for name in roles if name.endswith("orchestration-role")]
    [policy_name] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    original = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    original = json.loads(original) if isinstance(original, str) else original
    launcher = f"arn:aws:iam::{world.account_id}:role/wave-launcher"
    if launcher_exists:
        account = f"arn:aws:iam::{world.account_id}:root"
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": account}}]}
        iam.create_role(RoleName="wave-launcher", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName="wave-launcher", PolicyName="launch",
                            PolicyDocument=json.dumps(original))
    iam.put_role_policy(RoleName=role_name, PolicyName=policy_name,
                        PolicyDocument=json.dumps(_without_drs(copy.deepcopy(original), launcher)))
    sources = dict(function_sources())
    start = sources["drs_calls.py"].index("def drs_client()")
    end = sources["drs_calls.py"].index("def error_code(")
    sources["drs_calls.py"] = sources["drs_calls.py"][:start] + ASSUMED_DRS.lstrip("\n") + "\n\n" + \
        sources["drs_calls.py"][end:]
    try:
        with deployed(world, "orchestration", sources, {"LAUNCH_ROLE": launcher}):
            yield launcher
    finally:
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(original))
        if launcher_exists:
            iam.delete_role_policy(RoleName="wave-launcher", PolicyName="launch")
            iam.delete_role(RoleName="wave-launcher")


