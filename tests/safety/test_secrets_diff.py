"""Secrets never leak from diff-stacks: two templates with rotated secrets, in every format.

Secrets sit in environment variables, in parameters (by name, and NoEcho under an innocent name),
travel through !Ref and !Sub into other properties and outputs, and arrive with --parameters-a.
The table an environment variable was repointed to must still be shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli
from drsdoctor.secrets import REDACTED

SIDES = {
    "a": {"password": "Hunter2-Pa55word!", "token": "tok_9f8e7d6c5b4a3921", "master": "Zebra-Quartz-77",
          "blob": "8f3Kq9ZxP2mVt7LrW4nB6yHc1JdGs5Ea0uTiOoQeZ1", "table": "drs-execution-history-live"},
    "b": {"password": "Corr3ct-Horse-Battery", "token": "tok_1a2b3c4d5e6f7081", "master": "Walrus-Tango-42",
          "blob": "Q7wE9rT2yU4iO6pA8sD0fG1hJ3kL5zX7cV9bN2mM4q", "table": "drs-execution-history-stale"},
}
GIVEN = "Given-On-CommandLine-91"  # --parameters-a ApiKey=...
NEEDLES = [value for side in SIDES.values() for key, value in side.items() if key != "table"] + [GIVEN]
FORMATS = [("text",), ("text", "--long"), ("json",), ("markdown",), ("sarif",)]


def template(side: dict[str, str], extra_function: bool) -> str:
    added = f"""
  AuditFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: drs-audit
      Handler: index.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/drs-audit
      Code: {{ZipFile: "def handler(e, c): pass"}}
      Environment:
        Variables:
          AUDIT_TOKEN: {side["token"]}
          SIGNING_BLOB: {side["blob"]}
""" if extra_function else ""
    return f"""
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  DbPassword:
    Type: String
    Default: {side["password"]}
  MasterCode:
    Type: String
    NoEcho: true
    Default: {side["master"]}
  ApiKey:
    Type: String
    Default: none-given
Resources:
  PollerFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: drs-execution-poller
      Handler: index.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/drs-poller
      Code: {{ZipFile: "def handler(e, c): pass"}}
      Description: !Sub "poller (build ${{MasterCode}})"
      Environment:
        Variables:
          EXECUTION_TABLE: {side["table"]}
          DB_PASSWORD: !Ref DbPassword
          DATABASE_URL: !Sub "postgres://admin:${{DbPassword}}@db.internal:5432/app"
          API_TOKEN: {side["token"]}
          BUILD_CODE: !Ref MasterCode
          SIGNING_BLOB: {side["blob"]}
          UPSTREAM_KEY: !Ref ApiKey
{added}
Outputs:
  ConnectionHint:
    Value: !Sub "user admin with ${{DbPassword}}"
"""


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("templates")
    a, b = folder / "a.yaml", folder / "b.yaml"
    a.write_text(template(SIDES["a"], extra_function=False))
    b.write_text(template(SIDES["b"], extra_function=True))
    return a, b


def diff(a: Path, b: Path, *args: str) -> tuple[int, str, str]:
    given = ["--parameters-a", f"ApiKey={GIVEN}"]
    result = CliRunner().invoke(cli, ["diff-stacks", str(a), str(b), *given, *args])
    assert not isinstance(result.exception, Exception), result.output  # SystemExit is the exit code
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", FORMATS, ids=" ".join)
def test_no_diff_format_shows_a_secret(templates: tuple[Path, Path], args: tuple[str, ...]) -> None:
    code, out, err = diff(*templates, "--format", *args)
    assert code == 1
    assert [needle for needle in NEEDLES if needle in out + err] == []
    assert REDACTED in out
    # what operators need is still there: the repointed table, both sides of it
    assert "drs-execution-history-live" in out and "drs-execution-history-stale" in out


def test_every_secret_change_is_still_reported(templates: tuple[Path, Path]) -> None:
    _, out, _ = diff(*templates, "--format", "json")
    result = json.loads(out)
    paths = {(c["resource"], c["path"]) for c in result["changes"]}
    for variable in ("DB_PASSWORD", "DATABASE_URL", "API_TOKEN", "BUILD_CODE", "SIGNING_BLOB"):
        assert ("PollerFunction", f"Environment.Variables.{variable}") in paths  # changed, value hidden
    assert {("DbPassword", "Parameters.DbPassword"), ("MasterCode", "Parameters.MasterCode")} <= paths
    added = next(c for c in result["changes"] if c["resource"] == "AuditFunction")
    assert added["after"]["Environment"]["Variables"] == {"AUDIT_TOKEN": REDACTED, "SIGNING_BLOB": REDACTED}
    described = result["a"]["parameters"]
    assert described["MasterCode"] == REDACTED and described["ApiKey"] == REDACTED  # NoEcho, and by name


def test_a_noecho_parameter_hides_both_sides_of_its_change(templates: tuple[Path, Path]) -> None:
    _, out, _ = diff(*templates, "--format", "json")
    [change] = [c for c in json.loads(out)["changes"] if c["path"] == "Parameters.MasterCode"]
    assert (change["before"], change["after"]) == (REDACTED, REDACTED)


def test_a_secret_holding_the_environment_name_is_scrubbed_in_its_normalised_form(tmp_path: Path) -> None:
    # normalisation shows "Pw-prod-9" as "Pw-${EnvironmentName}-9": that form is the same secret
    body = """
Parameters:
  EnvironmentName: {{Type: String, Default: {env}}}
  DbPassword: {{Type: String, Default: Kx7-{env}-Pa55}}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "drs-${{EnvironmentName}}-history"
Outputs:
  Hint:
    Value: !Sub "connect with ${{DbPassword}} ({version})"
"""
    (tmp_path / "a.yaml").write_text(body.format(env="prod", version="v1"))
    (tmp_path / "b.yaml").write_text(body.format(env="prod", version="v2"))
    result = CliRunner().invoke(cli, ["diff-stacks", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"),
                                      "--format", "json"])
    [hint] = [c for c in json.loads(result.stdout)["changes"] if c["path"] == "Outputs.Hint"]
    assert hint["after"] == {"Value": f"connect with {REDACTED} (v2)"}
    assert "Kx7" not in result.stdout and "Pa55" not in result.stdout
