"""`drsdoctor iam simulate` on what code calls (--code DIR|ZIP) and on a template's own resources
(--template with --role-kind or --code), Fn::If and AWS::NoValue in a role's Policies included."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "drsdoctor" / "reference"
TEMPLATE = str(REFERENCE / "template.yaml")
FUNCTIONS = REFERENCE / "functions"
ROLES = {"orchestration": "OrchestrationRole", "finder": "ExecutionFinderRole",
         "poller": "ExecutionPollerRole"}
CONDITIONAL = """
Parameters:
  WithDrs: {Type: String, Default: "yes"}
Conditions:
  UseDrs: !Equals [!Ref WithDrs, "yes"]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
      Policies:
        - PolicyName: base
          PolicyDocument: {Version: "2012-10-17",
                           Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]}
        - !If
          - UseDrs
          - PolicyName: drs
            PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "drs:DescribeJobs",
                                                                  Resource: "*"}]}
          - !Ref AWS::NoValue
"""


def simulate(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(cli, ["iam", "simulate", *args])
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.exception
    return outcome.exit_code, outcome.output


def decision(output: str, action: str) -> str:
    """The DECISION column of an action's row in the text table."""
    return next(line.split()[1] for line in output.splitlines() if line.split()[:1] == [action])


@pytest.mark.parametrize(("kind", "count"), [("poller", 9), ("finder", 5), ("orchestration", 46)])
def test_a_role_kind_is_decided_on_the_template_s_own_resources(kind: str, count: int) -> None:
    code, output = simulate("--role-kind", kind, "--template", TEMPLATE, "--role", ROLES[kind])
    assert (code, output.splitlines()[-1]) == (
        0, f"{count} of {count} actions allowed on the resources they act on (engine: local)"), output


def test_a_policy_under_a_condition_is_in_or_out_as_the_condition_says(tmp_path: Path) -> None:
    template = tmp_path / "conditional.yaml"
    template.write_text(CONDITIONAL)
    args = ["--template", str(template), "--role", "Role", "--action", "drs:DescribeJobs"]
    assert simulate(*args)[0] == 0
    code, output = simulate(*args, "--parameter", "WithDrs=no")
    assert code == 1 and decision(output, "drs:DescribeJobs") == "implicitDeny"


@pytest.mark.parametrize("kind", sorted(ROLES))
def test_the_reference_code_is_allowed_by_its_template(kind: str) -> None:
    code, output = simulate("--code", str(FUNCTIONS), "--template", TEMPLATE, "--role", ROLES[kind])
    assert code == 0, output


def test_a_call_the_template_role_lacks_is_named_with_its_line(tmp_path: Path) -> None:
    code_dir = tmp_path / "code"
    shutil.copytree(FUNCTIONS, code_dir)
    poller = code_dir / "execution_poller.py"
    text = poller.read_text()
    marker = "def poll(execution_id: str) -> dict[str, Any]:\n"
    poller.write_text(text.replace(marker, marker + "    boto3.client('ec2').describe_instances()\n"))
    line = text[:text.index(marker)].count("\n") + 2
    code, output = simulate("--code", str(code_dir), "--template", TEMPLATE, "--role", "ExecutionPollerRole")
    assert code == 1
    assert decision(output, "ec2:DescribeInstances") == "implicitDeny"
    assert f"the code calls it at execution_poller.py:{line}" in output


def test_code_in_a_zip_with_a_policy_file(tmp_path: Path) -> None:
    package = tmp_path / "finder.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.write(FUNCTIONS / "execution_finder.py", "execution_finder.py")
    policy = tmp_path / "policy.json"
    policy.write_text('{"Version": "2012-10-17", "Statement": '
                      '[{"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*"}]}')
    code, output = simulate("--code", str(package), "--handler", "execution_finder.handler", "--policy",
                            str(policy))
    assert code == 1
    assert decision(output, "dynamodb:Query") == "allowed"
    assert decision(output, "lambda:InvokeFunction") == "implicitDeny"
    # the resource as the code names it
    assert "execution_finder.py:54 (FunctionName=$POLLER_FUNCTION)" in output


def test_code_that_is_not_there_is_one_line_and_exit_2(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "drsdoctor", "iam", "simulate", "--code", str(tmp_path / "nope"),
               "--policy", str(tmp_path / "p.json")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "nope" in done.stderr
