"""The AWS layer as a user meets it: reads go through, writes never leave, failures name the fix."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from moto import mock_aws

from drsdoctor import exitcodes
from drsdoctor.aws import AwsSession, AwsSettings, MutatingCallRefused, failure_from, iam_action
from drsdoctor.aws.failures import AwsUnavailable
from drsdoctor.errors import InputError

STATES = "arn:aws:states:eu-west-1:123456789012"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsSession]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield AwsSession(AwsSettings(region="eu-west-1"))


def test_read_calls_are_sent_and_logged(aws: AwsSession) -> None:
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    (record,) = aws.call_log.records
    assert (record.service, record.operation, record.outcome) == ("dynamodb", "ListTables", "ok")
    assert record.duration_ms >= 0


@pytest.mark.expects_refused_calls
@pytest.mark.parametrize(("service", "call", "params"), [
    ("events", "disable_rule", {"Name": "finder"}),
    ("lambda", "invoke", {"FunctionName": "poller"}),
    ("dynamodb", "put_item", {"TableName": "t", "Item": {"k": {"S": "v"}}}),
    ("stepfunctions", "stop_execution", {"executionArn": f"{STATES}:execution:a:b"}),
    ("stepfunctions", "get_activity_task", {"activityArn": f"{STATES}:activity:a"}),
])
def test_a_mutating_call_is_refused_before_it_is_sent(aws: AwsSession, service: str, call: str,
                                                      params: dict[str, object]) -> None:
    sent: list[str] = []
    client = aws.client(service)
    client.meta.events.register("before-send.*.*", lambda request, **_: sent.append(request.url))
    with pytest.raises(MutatingCallRefused):
        getattr(client, call)(**params)
    assert sent == []
    assert aws.call_log.records[-1].outcome == "refused"


def test_the_same_client_is_reused_per_service_and_region(aws: AwsSession) -> None:
    assert aws.client("lambda") is aws.client("lambda")
    assert aws.client("lambda", "us-west-2") is not aws.client("lambda")
    assert aws.client("lambda", "us-west-2").meta.region_name == "us-west-2"


def test_an_aws_error_names_call_resource_and_permission(aws: AwsSession) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        aws.client("stepfunctions").describe_execution(
            executionArn="arn:aws:states:eu-west-1:123456789012:execution:machine:run")
    failure = failure_from(raised.value, "sfn", "DescribeExecution", "run")
    assert failure.kind == "not_found"
    assert "sfn:DescribeExecution on run failed: ExecutionDoesNotExist" in str(failure)
    assert failure.needed_permission == "states:DescribeExecution"
    assert aws.call_log.records[-1].outcome == "ExecutionDoesNotExist"


@pytest.mark.parametrize(("service", "operation", "action"), [
    ("sfn", "GetExecutionHistory", "states:GetExecutionHistory"),
    ("cloudwatch-logs", "FilterLogEvents", "logs:FilterLogEvents"),
    ("eventbridge", "ListRuleNamesByTarget", "events:ListRuleNamesByTarget"),
    ("lambda", "GetPolicy", "lambda:GetPolicy"),
    ("drs", "DescribeJobLogItems", "drs:DescribeJobLogItems"),
])
def test_operation_maps_to_iam_action(service: str, operation: str, action: str) -> None:
    assert iam_action(service, operation) == action


def test_access_denied_names_the_missing_permission() -> None:
    from botocore.exceptions import ClientError

    answer = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
    denied = ClientError(answer, "GetPolicy")
    failure = failure_from(denied, "lambda", "GetPolicy", "poller")
    assert (failure.kind, failure.fatal) == ("denied", False)
    assert str(failure).endswith("(needs lambda:GetPolicy)")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_endpoint_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url=f"http://127.0.0.1:{_closed_port()}",
                                     max_attempts=1, connect_timeout=1))
    with pytest.raises(Exception) as raised:
        session.client("dynamodb").list_tables()
    failure = failure_from(raised.value, "dynamodb", "ListTables", "region")
    assert isinstance(failure, AwsUnavailable) and failure.fatal
    assert failure.exit_code == exitcodes.INCOMPLETE
    assert "cannot reach AWS" in str(failure) and "\n" not in str(failure)
    assert session.call_log.records[-1].outcome == "EndpointConnectionError"


def test_no_credentials_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url=f"http://127.0.0.1:{_closed_port()}"))
    with pytest.raises(Exception) as raised:
        session.client("dynamodb").list_tables()
    failure = failure_from(raised.value, "dynamodb", "ListTables", "region")
    assert failure.kind == "no_credentials" and failure.exit_code == exitcodes.INCOMPLETE
    assert "no usable AWS credentials" in str(failure)


def test_an_unknown_profile_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    with pytest.raises(InputError, match="nope"):
        AwsSession(AwsSettings(profile="nope")).client("dynamodb")


def test_per_service_endpoint_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1111")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", "http://127.0.0.1:2222")
    session = AwsSession(AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:1111"))
    assert session.client("drs").meta.endpoint_url == "http://127.0.0.1:2222"
    assert session.client("lambda").meta.endpoint_url == "http://127.0.0.1:1111"
    explicit = AwsSession(AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:3333"))
    assert explicit.client("drs").meta.endpoint_url == "http://127.0.0.1:3333"
