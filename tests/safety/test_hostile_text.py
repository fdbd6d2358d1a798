"""Hostile text from AWS, a bundle, a template or a check never reaches the reader as it came.

One world holds both kinds of hostile text: secrets by their shape (webhook URLs in variables with neutral
names, signed and keyed URLs, passwords written as JSON, YAML or key=value in log lines and AWS error
messages, a redacted value repeated inside a log line) and terminal escape sequences (clear screen,
window title, OSC 8 hidden links, bare ESC, BEL, C1 controls, carriage return, bidi override). Every
format, --output, the saved bundle and diff-stacks are searched; JUnit must parse and SARIF must validate
against the SARIF 2.1.0 schema (tests/report/sarif-schema-2.1.0.json, from @microsoft/jest-sarif, MIT).
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli
from drsdoctor.secrets import REDACTED, Scrubber, looks_secret
from drsdoctor.snapshot import FactError

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import stuck

SARIF_SCHEMA = json.loads((Path(__file__).parents[1] / "report" / "sarif-schema-2.1.0.json").read_text())

HOOK = "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/SlackHookToken0001xyz"
# neutral names: only the value's shape says it is a secret
ENVIRONMENT = {
    "NOTIFY_URL": HOOK,
    "TEAMS_CHANNEL": "https://contoso.webhook.office.com/webhookb2/1111-aaaa@2222-bbbb/IncomingWebhook/"
                     "TeamsToken0002/3333-cccc",
    "LEGACY_TEAMS": "https://outlook.office.com/webhook/4444@5555/IncomingWebhook/OfficeToken0003/6666",
    "ALERT_TARGET": "https://discord.com/api/webhooks/123456789012345678/DiscordToken0004-abc",
    "REPORT_LINK": "https://drs-reports.s3.amazonaws.com/r.json?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                   "&X-Amz-Signature=S3Signature0005abc&X-Amz-Date=20260108T000000Z",
    "BLOB": "https://acct.blob.core.windows.net/c/r.json?sv=2022-11-02&sig=SasSig0006abc%3D&se=2026",
    "SIGNED": "https://api.example.com/v1/hook?signature=Signature0007abc",
    "GEO": "https://maps.example.com/api/geocode?key=MapsKey0008abc&q=x",
    "CALLBACK": "https://api.example.com/cb?token=QueryToken0009abc",
}
LOG_LINES = [
    '{"level": "ERROR", "msg": "login failed", "password": "JsonPassword0010"}',
    "connecting as app pwd: YamlPwd0011 to db",
    "db_pw: YamlPw0012",
    f"posting the alert to {HOOK} failed",  # a value judged secret, repeated inside a longer text
    'retrying with {\\"token\\": \\"EscapedToken0013\\"}',
    "api_key=KvApiKey0014 rejected; secret: Secret0015; passwd=Passwd0016",
]
AWS_ERROR = "User is not authorized to perform drs:DescribeJobs (pw=AwsErrorPw0017)"
NEEDLES = ["SlackHookToken0001xyz", "TeamsToken0002", "OfficeToken0003", "DiscordToken0004",
           "S3Signature0005abc", "SasSig0006abc", "Signature0007abc", "MapsKey0008abc", "QueryToken0009abc",
           "JsonPassword0010", "YamlPwd0011", "YamlPw0012", "EscapedToken0013", "KvApiKey0014", "Secret0015",
           "Passwd0016", "AwsErrorPw0017"]

ESCAPES = {
    "clear screen": "\x1b[2J\x1b[H",
    "window title": "\x1b]0;owned\x07",
    "hidden link": "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\",
    "bare ESC": "\x1bc",
    "BEL": "\x07",
    "C1 CSI": "\x9b31m",
    "C1 OSC": "\x9d0;title\x9c",
    "carriage return": "\rfake verdict: healthy",
    "NUL": "\x00",
    "bidi override": "\u202egnp.exe",
    "backspace": "ok\x08\x08no",
}
BAIT = "|bait|" + "".join(ESCAPES.values()) + "`tick`"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")
FORMATS = ["text", "json", "markdown", "sarif", "junit", "html"]

QUOTING_CHECK = '''
from drsdoctor.checkapi import CRITICAL, check, fail


@check(id="ZZH001", service="lambda", severity=CRITICAL, title="quotes every hostile text it read",
       reads=("functions",))
def quotes(snap):
    poller = snap.function_of_kind("poller")
    env = poller.environment
    values = " ".join(env[name] for name in sorted(env) if name != "TERM_BAIT")
    bait = env["TERM_BAIT"]
    yield fail(poller.arn + "#`|bait|`" + bait, "variables ``` " + bait + " " + values,
               evidence=[*poller.recent_errors, *(error.message for error in snap.fact_errors)])
'''


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    snap = stuck()
    poller = snap.function_of_kind("poller")
    assert poller is not None
    poller.environment.update({**ENVIRONMENT, "TERM_BAIT": BAIT})
    poller.recent_errors = [*LOG_LINES, "boom " + ESCAPES["clear screen"] + ESCAPES["window title"]]
    snap.fact_errors.append(FactError(fact="drs_jobs", call="drs:DescribeJobs", code="AccessDeniedException",
                                      resource="drsjob-9", message=AWS_ERROR + ESCAPES["hidden link"]))
    snap.notes.append("note " + ESCAPES["C1 CSI"] + ESCAPES["carriage return"])
    bundle = folder / "raw.json"
    snap.save(bundle)  # unredacted on purpose, as a live collection holds it in memory
    assert all(needle in bundle.read_text() for needle in NEEDLES)
    plugins = folder / "plugins"
    plugins.mkdir()
    (plugins / "quoting.py").write_text(QUOTING_CHECK)
    return bundle, plugins


def diagnose(world: tuple[Path, Path], *args: str) -> tuple[int, str, str]:
    bundle, plugins = world
    result = CliRunner().invoke(cli, ["diagnose", "--from-bundle", str(bundle), "--checks-dir", str(plugins),
                                      "-v", *args])
    assert not isinstance(result.exception, Exception), result.output
    return result.exit_code, result.stdout, result.stderr


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in strings(key) + strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def assert_safe(text: str) -> None:
    assert [needle for needle in NEEDLES if needle in text] == []
    assert RAW.findall(text) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_secret_or_obeys_an_escape(world: tuple[Path, Path], fmt: str,
                                                      tmp_path: Path) -> None:
    code, out, err = diagnose(world, "--format", fmt)
    assert code == 1
    assert_safe(out)
    assert_safe(err)
    written = tmp_path / f"report.{fmt}"
    code, _, _ = diagnose(world, "--format", fmt, "--output", str(written))
    assert code == 1
    assert written.read_text() == out + "\n" or written.read_text() == out
    if fmt in ("json", "sarif"):
        shown = "\n".join(strings(json.loads(out)))
        assert_safe(shown)  # decoded, too: no \\u001b that a consumer would print raw
        assert "\\x1b[2J" in shown and "\\x1b]8;;https://evil.example/" in shown
    else:
        assert "\\x1b[2J" in out and "\\x07" in out  # shown, escaped: the reader sees what was there
    if fmt == "html":  # well-formed, and no markup of its own came from the data
        page = ET.fromstring(out.removeprefix("<!DOCTYPE html>"))
        assert not [e.tag for e in page.iter() if e.tag in ("script", "img", "iframe", "a") or any(
            name.startswith("on") for name in e.attrib)]
    if fmt == "junit":
        root = ET.fromstring(out)  # well-formed
        assert any(case.get("classname", "").endswith("ZZH001") for case in root.iter("testcase"))
    if fmt == "sarif":
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(out))


def test_markdown_tables_keep_their_columns(world: tuple[Path, Path]) -> None:
    _, out, _ = diagnose(world, "--format", "markdown")
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert rows and any("ZZH001" in row for row in rows)
    for row in rows:
        cells = re.split(r"(?<!\\)\|", re.sub(r"(`+).*?\1", "code", row))
        assert len(cells) in (5, 6), row  # 3 or 4 columns: no pipe or backtick from the data split a row
    fences = [line for line in out.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0  # no ``` from the data opened or closed a block


def test_the_saved_bundle_holds_no_secret(world: tuple[Path, Path], tmp_path: Path) -> None:
    saved = tmp_path / "saved.json"
    code, _, _ = diagnose(world, "--save-bundle", str(saved))
    assert code == 1
    text = saved.read_text()
    assert [needle for needle in NEEDLES if needle in text] == []
    environment = {f["name"]: f["environment"] for f in json.loads(text)["functions"]}
    poller = next(env for env in environment.values() if "NOTIFY_URL" in env)
    assert all(poller[name] == REDACTED for name in ENVIRONMENT)  # by shape, under neutral names


@pytest.mark.parametrize(("text", "scrubbed"), [
    (HOOK, "https://hooks.slack.com/services/" + REDACTED),
    (ENVIRONMENT["TEAMS_CHANNEL"], "https://contoso.webhook.office.com/webhookb2/" + REDACTED),
    (ENVIRONMENT["ALERT_TARGET"], "https://discord.com/api/webhooks/" + REDACTED),
    (ENVIRONMENT["BLOB"], f"https://acct.blob.core.windows.net/c/r.json?sv=2022-11-02&sig={REDACTED}&se=2026"),
    ('{"user": "app", "password": "hunter2!"}', f'{{"user": "app", "password": "{REDACTED}"}}'),
    ("{'secret': 'x-y-z'}", f"{{'secret': '{REDACTED}'}}"),
    ("login pwd: s3cr3t", f"login pwd: {REDACTED}"),
    ("token: abc123", f"token: {REDACTED}"),
    ("apiToken=abc; TOKEN_TTL=30", f"apiToken={REDACTED}; TOKEN_TTL=30"),
    # what is no credential stays: an error code, a secret's ARN, a setting named after a token
    ("ExpiredToken: The security token included in the request is expired",
     "ExpiredToken: The security token included in the request is expired"),
    ("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
     "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"),
    ("token_ttl: 30 keys: 4", "token_ttl: 30 keys: 4"),
    ("https://sqs.us-east-1.amazonaws.com/123456789012/drs-wave-events?Action=List",
     "https://sqs.us-east-1.amazonaws.com/123456789012/drs-wave-events?Action=List"),
])
def test_free_text_loses_credentials_by_their_shape(text: str, scrubbed: str) -> None:
    assert Scrubber().text(text) == scrubbed


@pytest.mark.parametrize("name", sorted(ENVIRONMENT))
def test_a_neutral_name_with_a_secret_shaped_value_is_secret(name: str) -> None:
    assert looks_secret(name, ENVIRONMENT[name])


def test_the_call_log_never_holds_a_shaped_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from drsdoctor.aws import AwsSession, AwsSettings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = AwsSession(AwsSettings(region="us-east-1", max_attempts=1))
        with pytest.raises(Exception, match="ResourceNotFound"):
            session.client("dynamodb").query(
                TableName="drs-execution-history-prod", KeyConditionExpression="executionId = :id",
                ExpressionAttributeValues={":id": {"S": HOOK}, ":note": {"S": LOG_LINES[0]},
                                           ":other": {"S": ENVIRONMENT["BLOB"]}})
    [record] = session.call_log.records
    shown = "\n".join([record.line(), json.dumps(record.to_dict())])
    assert [needle for needle in NEEDLES if needle in shown] == []
    assert "drs-execution-history-prod" in record.params


def template(token: str, sig: str, bait: str) -> str:
    return f"""
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  PollerFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: drs-execution-poller
      Handler: index.handler
      Runtime: python3.12
      Role: arn:aws:iam::123456789012:role/drs-poller
      Code: {{ZipFile: "def handler(e, c): pass"}}
      Description: {json.dumps(bait)}
      Environment:
        Variables:
          NOTIFY_URL: https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/{token}
          REPORT_LINK: https://drs-reports.s3.amazonaws.com/r.json?X-Amz-Signature={sig}&X-Amz-Date=1
          EXECUTION_TABLE: drs-execution-history-{token[-4:].lower()}
"""


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif", "html"])
def test_diff_stacks_shows_no_secret_and_obeys_no_escape(tmp_path: Path, fmt: str) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(template("SlackHookToken0001xyz", "S3Signature0005abc", "poller " + ESCAPES["window title"]))
    b.write_text(template("TeamsToken0002", "SasSig0006abc", "poller " + BAIT))
    result = CliRunner().invoke(cli, ["diff-stacks", str(a), str(b), "--format", fmt])
    assert not isinstance(result.exception, Exception), result.output
    assert result.exit_code == 1
    assert_safe(result.stdout + result.stderr)
    shown = "\n".join(strings(json.loads(result.stdout))) if fmt in ("json", "sarif") else result.stdout
    assert_safe(shown)
    assert "\\x1b]0;owned\\x07" in shown  # the changed description is shown, escaped
    if fmt == "sarif":
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(result.stdout))


def test_an_error_line_shows_escapes_written_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from drsdoctor.cli import main

    with pytest.raises(SystemExit) as done:
        main(["diagnose", "--from-bundle", str(tmp_path / ("x" + ESCAPES["clear screen"]))])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert RAW.findall(err) == [] and "\\x1b[2J" in err
