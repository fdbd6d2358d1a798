"""Secrets never leak: values planted wherever they could travel are absent from every output of diagnose.

A Snapshot holding secrets in memory (as a live collection would) is saved unredacted and diagnosed
offline with --from-bundle in every format, with -v, with --save-bundle, and with a third-party check
that quotes a secret or crashes on one. Table names, which operators need, must still be shown.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli, main
from drsdoctor.secrets import REDACTED, Scrubber, looks_secret
from drsdoctor.snapshot import FactError, Snapshot, Stack

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import NOW, stuck

# name -> value, each a kind of secret the one rule must catch
PLANTED = {
    "DB_PASSWORD": "Hunter2-Pa55word!",  # by name
    "API_TOKEN": "tok_9f8e7d6c5b4a3921",  # by name
    "DATABASE_URL": "postgres://admin:S3cretPw9@db.internal:5432/app",  # credentials inside a URL
    "UPSTREAM_MATERIAL": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # the shape of an AWS secret key
    "SIGNING_BLOB": "8f3Kq9ZxP2mVt7LrW4nB6yHc1JdGs5Ea0uTiOoQeZ1",  # long and high-entropy
    "LEGACY_ODBC": "Server=db;Uid=app;Pwd=Tr0ub4dor&3;",  # a connection string with a password
}
PARAMETERS = {"DbPassword": "Corr3ct-Horse-Battery",
              "GitHubToken": "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"}
# what must be absent: every planted value, and the password part of the URL on its own
NEEDLES = [*PLANTED.values(), *PARAMETERS.values(), "S3cretPw9", "Tr0ub4dor&3"]
FORMATS = ["text", "json", "markdown", "sarif", "junit"]

QUOTING_CHECK = '''
from drsdoctor.checkapi import CRITICAL, check, fail

@check(id="ZZZ001", service="lambda", severity=CRITICAL, title="a plugin that quotes what it read",
       reads=("functions",))
def quotes(snap):
    poller = snap.function_of_kind("poller")
    yield fail(poller.arn, "the poller connects with " + poller.environment["DATABASE_URL"],
               evidence=["password " + poller.environment["DB_PASSWORD"]])

@check(id="ZZZ002", service="lambda", severity=CRITICAL, title="a plugin that crashes on a secret",
       reads=("functions",))
def crashes(snap):
    raise ValueError("cannot parse " + snap.function_of_kind("poller").environment["API_TOKEN"])
'''


def leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


def planted_snapshot() -> Snapshot:
    """The incident, with secrets in the environments, the stack, log lines, error messages and notes."""
    snap = stuck()
    for function in snap.functions:
        function.environment.update(PLANTED)
    poller = snap.function_of_kind("poller")
    assert poller is not None
    poller.environment["EXECUTION_TABLE"] = "drs-execution-history-dev"  # LMB001 fails: its fix is a command
    poller.last_invocation = NOW - timedelta(minutes=38)
    poller.recent_errors = [f"OperationalError: could not connect to {PLANTED['DATABASE_URL']}",
                            f"auth failed for token {PLANTED['API_TOKEN']}"]
    snap.stack = Stack(name="drs-orchestrator-prod", parameters={**PARAMETERS, "EnvironmentName": "prod"},
                       template=f"Parameters:\n  DbPassword:\n    Default: {PARAMETERS['DbPassword']}\n")
    snap.fact_errors.append(FactError(
        fact="drs_jobs", call="drs:DescribeJobs", code="ValidationException", resource="drsjob-9",
        message=f"1 validation error: value '{PLANTED['SIGNING_BLOB']}' at 'filters.jobIDs'"))
    snap.notes.append(f"the orchestration function's DB_PASSWORD is {PLANTED['DB_PASSWORD']}")
    snap.execution.input = json.dumps({"planId": "plan-1", "apiToken": PLANTED["API_TOKEN"]})  # type: ignore[union-attr]
    return snap


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "raw.json"
    planted_snapshot().save(path)  # unredacted on purpose: the secrets are "in memory" for diagnose
    assert leaks(path.read_text())  # the planting worked
    return path


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "quoting.py").write_text(QUOTING_CHECK)
    return folder


def diagnose(bundle: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["diagnose", "--from-bundle", str(bundle), *args])
    assert not isinstance(result.exception, Exception), result.output  # SystemExit is the exit code
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_report_format_shows_a_secret(bundle: Path, plugin: Path, fmt: str) -> None:
    code, out, err = diagnose(bundle, "--format", fmt, "--checks-dir", str(plugin), "-v")
    assert code == 1
    assert leaks(out) == [] and leaks(err) == []
    assert "drs-execution-history-dev" in out  # the table an operator must fix is still named
    assert "ZZZ001" in out and "ZZZ002" in out  # the quoting plugin's findings were rendered, scrubbed


def test_quoted_secrets_are_replaced_where_they_were(bundle: Path, plugin: Path) -> None:
    _, out, _ = diagnose(bundle, "--format", "json", "--checks-dir", str(plugin))
    findings = {f["check"]: f for f in json.loads(out)["findings"]}
    # the whole known value goes, not only the password in it: the URL was the secret variable's value
    assert findings["ZZZ001"]["detail"] == f"the poller connects with {REDACTED}"
    assert findings["ZZZ001"]["evidence"] == [f"password {REDACTED}"]
    assert findings["ZZZ002"]["status"] == "error" and REDACTED in findings["ZZZ002"]["detail"]


def test_the_environment_fix_keeps_secrets_without_printing_them(bundle: Path) -> None:
    _, out, _ = diagnose(bundle, "--format", "json", "--check", "LMB001")
    failed = [f for f in json.loads(out)["findings"] if f["status"] == "fail"]
    assert [f["resource"].rsplit("#", 1)[-1] for f in failed] == ["EXECUTION_TABLE"]
    fix = failed[0]["remediation"]
    # --environment replaces every variable: the command reads them back instead of quoting them
    assert "get-function-configuration" in fix and "jq" in fix
    assert '.Variables["EXECUTION_TABLE"] = "drs-execution-history-prod"' in fix
    assert REDACTED not in fix and leaks(fix) == []


def test_the_environment_fix_quotes_a_plain_environment_whole() -> None:
    from builders import findings

    snap = stuck()
    snap.function_of_kind("poller").environment["EXECUTION_TABLE"] = "drs-execution-history-dev"  # type: ignore[union-attr]
    [failed] = [f for f in findings("LMB001", snap) if f.status == "fail"]
    assert '"EXECUTION_TABLE":"drs-execution-history-prod"' in failed.remediation
    assert "jq" not in failed.remediation


def test_a_saved_bundle_holds_no_secret_but_every_name(bundle: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    code, _, _ = diagnose(bundle, "--save-bundle", str(saved))
    assert code == 1
    text = saved.read_text()
    assert leaks(text) == []
    snap = Snapshot.load(saved)
    poller = snap.function_of_kind("poller")
    assert poller is not None
    assert poller.environment["DB_PASSWORD"] == REDACTED and poller.environment["DATABASE_URL"] == REDACTED
    assert poller.environment["EXECUTION_TABLE"] == "drs-execution-history-dev"
    assert snap.stack is not None and snap.stack.parameters == {
        "DbPassword": REDACTED, "GitHubToken": REDACTED, "EnvironmentName": "prod"}
    assert poller.recent_errors[0] == f"OperationalError: could not connect to {REDACTED}"


def test_a_saved_bundle_diagnoses_to_the_same_root_cause(bundle: Path, tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    _, first, _ = diagnose(bundle, "--format", "json", "--save-bundle", str(saved))
    _, again, _ = diagnose(saved, "--format", "json")
    assert json.loads(first)["root_cause"] == json.loads(again)["root_cause"]


def test_an_error_message_quoting_a_credential_is_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:postgres://admin:S3cretPw9@db:x"
    with pytest.raises(SystemExit) as done:
        main(["diagnose", arn, "--region", "us-east-1"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "S3cretPw9" not in err and err.startswith("drsdoctor: ")


def test_the_call_log_never_holds_a_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from drsdoctor.aws import AwsSession, AwsSettings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = AwsSession(AwsSettings(region="us-east-1", max_attempts=1))
        table = session.client("dynamodb")
        with pytest.raises(Exception, match="ResourceNotFound"):
            table.query(TableName="drs-execution-history-prod", KeyConditionExpression="executionId = :id",
                        ExpressionAttributeValues={":id": {"S": PLANTED["DATABASE_URL"]}})
    [record] = session.call_log.records
    shown = "\n".join([record.line(), session.call_log.summary(), json.dumps(record.to_dict())])
    assert leaks(shown) == []
    assert "drs-execution-history-prod" in record.params  # distinct calls are still told apart


@pytest.mark.parametrize(("name", "value", "secret"), [
    ("DB_PASSWORD", "x", True),
    ("DbPassword", "x", True),
    ("GitHubToken", "x", True),
    ("api-key", "x", True),
    ("AWS_SECRET_ACCESS_KEY", "x", True),
    ("DATABASE_URL", "postgres://admin:hunter2@db/app", True),
    ("CONN", "Server=db;User Id=app;Password=pw;", True),
    ("KEY_ID", "AKIAIOSFODNN7EXAMPLE", True),
    ("CERT", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", True),
    ("SIGNING", "8f3Kq9ZxP2mVt7LrW4nB6yHc1JdGs5Ea0uTiOoQe", True),
    ("ANYTHING", REDACTED, True),  # already hidden stays hidden: never reused as a value
    ("EXECUTION_TABLE", "drs-orchestrator-archive-execution-history", False),
    ("TOKEN_TABLE", "drs-api-tokens-prod", False),  # names a table: operators need it
    ("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", False),
    ("TABLE_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/drs-execution-history-prod", False),
    ("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/drs-wave-events-prod", False),
    ("EXECUTION_ID", "3f2a9c1e-8d4b-4e6f-9a7b-2c5d8e1f4a6b", False),
    ("POLL_INTERVAL_SECONDS", "30", False),
    ("DRS_REGION", "eu-west-1", False),
])
def test_the_one_rule(name: str, value: str, secret: bool) -> None:
    assert looks_secret(name, value) is secret


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("connect postgres://admin:hunter2@db/app", "connect postgres://<redacted>@db/app"),
    ("key AKIAIOSFODNN7EXAMPLE used", "key <redacted> used"),
    ("Server=db;Password=pw9;Timeout=5", "Server=db;Password=<redacted>;Timeout=5"),
    ("commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad", "commit 3b18e512dba79e4c8300dd08aeb37f8e728b8dad"),
    ("rule drs-finder-schedule is DISABLED", "rule drs-finder-schedule is DISABLED"),
])
def test_free_text_keeps_its_words_and_loses_its_credentials(text: str, scrubbed: str) -> None:
    assert Scrubber().text(text) == scrubbed


def test_a_short_plain_secret_does_not_blank_the_report() -> None:
    # AUTH_MODE=enabled looks secret by name, but scrubbing "enabled" everywhere would garble every line
    scrubber = Scrubber.of_variables({"AUTH_MODE": "enabled", "TOKEN_TTL": "3600", "DB_PASSWORD": "hunter2"})
    scrubbed = scrubber.text("rule is enabled, ttl 3600, pw hunter2")
    assert scrubbed == "rule is enabled, ttl 3600, pw <redacted>"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_iam_simulate_never_echoes_context_values(tmp_path: Path, fmt: str) -> None:
    # decided: --context values are the operator's own input, not read from the account, so they are not
    # redacted by rule; the simulation reports condition keys (missing ones by name), never their values
    token = PLANTED["SIGNING_BLOB"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "drs:StartRecovery", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/ApiToken": token}}}]}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    outcomes = {}
    for given in (token, "wrong-value-000"):
        result = CliRunner().invoke(cli, ["iam", "simulate", "--policy", str(tmp_path / "policy.json"),
                                          "--action", "drs:StartRecovery", "--format", fmt,
                                          "--context", f"aws:PrincipalTag/ApiToken={given}"])
        assert token not in result.stdout + result.stderr and "wrong-value-000" not in result.stdout
        outcomes[given] = "implicitDeny" in result.stdout
    assert outcomes == {token: False, "wrong-value-000": True}  # the values were used, just not shown
