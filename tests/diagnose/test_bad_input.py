"""diagnose refuses what it cannot diagnose in one line, with the exit code DESIGN.md names."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from drsdoctor import exitcodes
from tests.diagnose.conftest import forks

REGION = "eu-west-1"


def run_diagnose(*args: str, endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": REGION}
    env.pop("AWS_ENDPOINT_URL", None)
    extra = ["--endpoint-url", endpoint] if endpoint else []
    return forks().run(["diagnose", *args, *extra], env=env, timeout=120, cwd=Path.cwd())


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, says: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.mark.parametrize(("arn", "says"), [
    ("not-an-arn", "not an ARN"),
    ("arn:aws:lambda:eu-west-1:123456789012:function:orch-dev-poller", "is a lambda ARN"),
    ("arn:aws:states:eu-west-1:123456789012:stateMachine:orch-dev-recovery", "not an execution ARN"),
    ("arn:aws:states:eu-west-1:123456789012:express:orch-dev-recovery:run-1:abc", "EXPRESS"),
])
def test_a_bad_arn_is_exit_2_before_any_aws_call(arn: str, says: str) -> None:
    closed = _closed_port()  # nothing listens: a call would fail with exit 3, not 2
    assert_one_line(run_diagnose(arn, endpoint=f"http://127.0.0.1:{closed}"), exitcodes.USAGE, says)


def test_no_arn_and_no_bundle_is_exit_2() -> None:
    assert_one_line(run_diagnose(), exitcodes.USAGE, "EXECUTION_ARN")


def test_an_unknown_execution_is_exit_3(moto_endpoint: str) -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:no-such-run"
    assert_one_line(run_diagnose(arn, endpoint=moto_endpoint), exitcodes.INCOMPLETE, "does not exist")


def test_an_express_machine_is_exit_2(moto_endpoint: str) -> None:
    client = boto3.client("stepfunctions", region_name=REGION, endpoint_url=moto_endpoint,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = client.create_state_machine(name="orch-dev-express", definition=definition, type="EXPRESS",
                                          roleArn="arn:aws:iam::123456789012:role/machine")["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=machine)["executionArn"]
    assert_one_line(run_diagnose(execution, endpoint=moto_endpoint), exitcodes.USAGE, "EXPRESS")


def test_an_unreachable_endpoint_is_exit_3() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:run-1"
    assert_one_line(run_diagnose(arn, endpoint=f"http://127.0.0.1:{_closed_port()}"), exitcodes.INCOMPLETE,
                    "cannot reach AWS")


def test_an_unreadable_bundle_is_exit_2() -> None:
    assert_one_line(run_diagnose("--from-bundle", "/nonexistent/bundle.json"), exitcodes.USAGE,
                    "cannot read bundle")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_credentials_is_exit_3_in_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": REGION})
    arn = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:run-1"
    done = forks().run(["diagnose", arn, "--endpoint-url", f"http://127.0.0.1:{_closed_port()}"], env=env,
                       timeout=120, cwd=Path.cwd())
    assert_one_line(done, exitcodes.INCOMPLETE, "no usable AWS credentials")


# ---- bad input is one line and exit 2, never "internal error" (in-process: main() as the console script) --

EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:orch-dev-recovery:run-1"


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from drsdoctor.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


def refused(capsys: pytest.CaptureFixture[str], says: str, *args: str) -> str:
    code, _, err = run_main(capsys, *args)
    lines = err.strip().splitlines()
    assert code == exitcodes.USAGE, err
    assert len(lines) == 1 and lines[0].startswith("drsdoctor: "), err
    assert "internal error" not in err and says in lines[0], err
    return lines[0]


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("hostile-files")
    files = {
        "a list": "[1, 2, 3]",
        "wrong types": json.dumps({"schema": "drsdoctor.bundle/1", "target": 5, "functions": "none"}),
        "nested 100k deep": "[" * 100_000 + "]" * 100_000,
        "not UTF-8": b'{"schema": "\xff\xfe\xfa"}',
    }
    paths = {}
    for name, body in files.items():
        path = folder / name.replace(" ", "-")
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
        paths[name] = str(path)
    huge = folder / "huge.json"
    with huge.open("wb") as sparse:  # larger than any limit, without writing it: refused before reading
        sparse.truncate(300 * 1024 * 1024)
    paths["too large"] = str(huge)
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    paths["a FIFO"] = str(fifo)
    paths["/dev/zero"] = "/dev/zero"
    paths["a directory"] = str(folder)
    return paths


BUNDLE_CASES = {"a list": "not valid", "wrong types": "not valid", "nested 100k deep": "nested too deeply",
                "not UTF-8": "not UTF-8", "too large": "larger than", "a FIFO": "not a regular file",
                "/dev/zero": "not a regular file", "a directory": "directory"}


@pytest.mark.parametrize("case", sorted(BUNDLE_CASES))
def test_a_hostile_bundle_is_one_line(capsys: pytest.CaptureFixture[str], hostile_files: dict[str, str],
                                      case: str) -> None:
    refused(capsys, BUNDLE_CASES[case], "diagnose", "--from-bundle", hostile_files[case])


@pytest.mark.parametrize("case", ["/dev/zero", "a FIFO", "too large", "not UTF-8"])
def test_diff_stacks_refuses_what_is_no_template_before_reading_it(
        capsys: pytest.CaptureFixture[str], hostile_files: dict[str, str], case: str) -> None:
    says = {"too large": "larger than 1 MB", "not UTF-8": "not UTF-8"}.get(case, "not a regular file")
    refused(capsys, says, "diff-stacks", hostile_files[case], hostile_files[case])


@pytest.mark.parametrize("case", ["/dev/zero", "a FIFO", "too large"])
def test_iam_simulate_refuses_what_is_no_policy_before_reading_it(
        capsys: pytest.CaptureFixture[str], hostile_files: dict[str, str], case: str) -> None:
    refused(capsys, "policy", "iam", "simulate", "--policy", hostile_files[case],
            "--action", "drs:StartRecovery")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
    from builders import stuck

    path = tmp_path_factory.mktemp("bundle") / "stuck.json"
    stuck().save(path)
    return str(path)


@pytest.mark.parametrize(("target", "says"), [
    ("/no/such/folder/report.txt", "No such file or directory"),
    ("/dev/full", "No space left on device"),
    ("/proc/version", "cannot write --output /proc/version"),
])
def test_an_output_that_cannot_be_written_is_one_line(capsys: pytest.CaptureFixture[str], bundle: str,
                                                      target: str, says: str) -> None:
    refused(capsys, says, "diagnose", "--from-bundle", bundle, "--output", target)


@pytest.mark.parametrize(("args", "says"), [
    (("--endpoint-url", "not a url"), "not an http(s) URL"),
    (("--endpoint-url", "ftp://127.0.0.1/x"), "not an http(s) URL"),
    (("--endpoint-url", "http://"), "not an http(s) URL"),
    (("--timeout", "nan"), "--timeout"),
    (("--timeout", "inf"), "--timeout"),
    (("--timeout", "-1"), "--timeout"),
    (("--format", "yaml"), "see 'drsdoctor diagnose --help'"),
    (("--no-such-option",), "see 'drsdoctor diagnose --help'"),
])
def test_a_bad_option_is_one_line_that_says_where_to_look(capsys: pytest.CaptureFixture[str],
                                                          args: tuple[str, ...], says: str) -> None:
    line = refused(capsys, says, "diagnose", EXECUTION, *args)
    assert line.endswith("(see 'drsdoctor diagnose --help')")


def test_an_arn_with_control_characters_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, "control characters", "diagnose", EXECUTION + "\x1b[2J")
    assert "\x1b" not in line


def test_an_arn_pasted_with_spaces_around_it_is_the_arn(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from drsdoctor.collect import parse_execution_arn

    assert parse_execution_arn(f"  {EXECUTION}\n").arn == EXECUTION
    # and the run goes on to AWS with it: an unreachable endpoint (exit 3), not a bad ARN (exit 2)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, _, err = run_main(capsys, "diagnose", f" {EXECUTION} ", "--endpoint-url",
                            f"http://127.0.0.1:{_closed_port()}")
    assert code == exitcodes.INCOMPLETE and "cannot reach AWS" in err, err


def test_a_malformed_answer_is_a_fact_error_naming_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.collect.gather import Gatherer
    from drsdoctor.snapshot import Snapshot

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="finder", ScheduleExpression="rate(1 minute)")
        session = AwsSession(AwsSettings(region=REGION, max_attempts=1))
        snap = Snapshot(target=EXECUTION)
        gather = Gatherer(session, snap, REGION)
        # an answer without a field the reader needs, as a truncated or hostile endpoint gives
        assert gather.fact("rules", "finder", lambda: gather.call("events", "describe_rule", "finder",
                                                                  Name="finder")["status"]) is None
    (error,) = snap.fact_errors
    assert (error.fact, error.call, error.code) == ("rules", "events:DescribeRule", "MalformedResponse")
    assert "KeyError: 'status'" in error.message and error.permission is None


# ---- --config: keys are the option names ----------------------------------------------------------------

def test_config_keys_are_the_option_names(capsys: pytest.CaptureFixture[str], bundle: str,
                                          tmp_path: Path) -> None:
    config = tmp_path / "drsdoctor.yaml"
    config.write_text("format: json\ncheck: [LMB001]\nhistory_limit: 50\ntimeout: 30\n"
                      f"checks-dir: [{tmp_path}]\n")
    code, out, err = run_main(capsys, "diagnose", "--config", str(config), "--from-bundle", bundle)
    assert code in (0, 1), err
    assert {finding["check"] for finding in json.loads(out)["findings"]} == {"LMB001"}


@pytest.mark.parametrize(("body", "says"), [
    ("colour: red\n", "unknown key 'colour'"),
    ("timeout: [1, 2]\n", "timeout: takes one value (seconds)"),
    ("timeout: nan\n", "timeout"),
    ("history-limit: lots\n", "history-limit"),
    ("format: yaml\n", "format"),
    ("check: {a: 1}\n", "check"),
    ("- format\n", "must be a mapping"),
])
def test_a_config_key_that_is_unknown_or_mistyped_is_one_line(capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path, body: str, says: str) -> None:
    config = tmp_path / "drsdoctor.yaml"
    config.write_text(body)
    line = refused(capsys, says, "diagnose", "--config", str(config), EXECUTION)
    assert str(config) in line
