"""The read-only guard is an allowlist: a client made by AwsSession sends only the operations in the one table
`drsdoctor permissions` prints; every other operation, whatever its name, is refused before it is sent."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from click.testing import CliRunner

from drsdoctor.aws import AwsSession, AwsSettings, MutatingCallRefused, is_read_operation
from drsdoctor.aws.allowlist import NEEDS_NO_PERMISSION, allowed_actions
from drsdoctor.aws.failures import iam_action

# The services drsdoctor calls (boto3's names).
USED = ("stepfunctions", "lambda", "logs", "dynamodb", "events", "iam", "drs", "cloudformation", "sts")
# Reads by name that are not reads: a secret's value, an identity created, a database user created.
NAMED_LIKE_READS = [("secretsmanager", "get_secret_value", {"SecretId": "prod/db"}),
                    ("cognito-identity", "get_id", {"IdentityPoolId": "eu-west-1:pool"}),
                    ("redshift", "get_cluster_credentials", {"DbUser": "admin", "ClusterIdentifier": "c"})]


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _table_of(service: str) -> set[str]:
    """The operations of `service` whose action is in the table."""
    model = _model(service)
    hyphenized = model.service_id.hyphenize()
    return {name for name in model.operation_names if iam_action(hyphenized, name) in allowed_actions()}


@pytest.fixture(scope="module")
def nothing_leaves() -> Iterator[tuple[AwsSession, list[str]]]:
    """A session on an endpoint nobody serves, and the requests its clients tried to send."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            patch.setenv(name, value)
        yield AwsSession(AwsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9")), []


def _watched(session: AwsSession, service: str, sent: list[str]) -> Any:
    client = session.client(service)
    client.meta.events.register("before-send.*.*", lambda request, **_: sent.append(request.url),
                                unique_id="test-allowlist-sent")  # once per client, however many tests
    return client


@pytest.mark.expects_refused_calls
@pytest.mark.parametrize(("service", "method", "params"), NAMED_LIKE_READS)
def test_a_read_by_name_that_is_not_in_the_table_is_refused(nothing_leaves: tuple[AwsSession, list[str]],
                                                            service: str, method: str,
                                                            params: dict[str, str]) -> None:
    session, sent = nothing_leaves
    with pytest.raises(MutatingCallRefused):
        getattr(_watched(session, service, sent), method)(**params)
    assert sent == []
    assert session.call_log.records[-1].outcome == "refused"


@pytest.mark.expects_refused_calls
@pytest.mark.parametrize("service", USED)
def test_every_operation_of_a_service_drsdoctor_uses_is_refused_unless_listed(
        nothing_leaves: tuple[AwsSession, list[str]], service: str) -> None:
    session, sent = nothing_leaves
    client = _watched(session, service, sent)
    listed = _table_of(service)
    refused = []
    for operation in _model(service).operation_names:
        if operation in listed:
            continue
        method = next(name for name, api in client.meta.method_to_api_mapping.items() if api == operation)
        with pytest.raises(MutatingCallRefused):
            getattr(client, method)()  # refused before its (missing) parameters are even checked
        refused.append(operation)
    assert sent == []  # nothing reached the wire
    assert len(refused) == len(_model(service).operation_names) - len(listed) > 0


def test_the_table_is_the_permissions_policy_and_names_real_operations() -> None:
    from drsdoctor.cli import cli

    printed = json.loads(CliRunner().invoke(cli, ["permissions", "--include-optional"]).output)
    granted = {action for statement in printed["Statement"] for action in statement["Action"]}
    assert allowed_actions() == granted | set(NEEDS_NO_PERMISSION)
    by_action = {iam_action(_model(service).service_id.hyphenize(), name)
                 for service in USED for name in _model(service).operation_names}
    assert allowed_actions() <= by_action  # no action in the table that no operation is
    # and each listed operation is let through, as the guard judges by the service id botocore reports
    for service in USED:
        hyphenized = _model(service).service_id.hyphenize()
        assert all(is_read_operation(hyphenized, name) for name in _table_of(service))


def test_a_call_in_the_table_goes_out(nothing_leaves: tuple[AwsSession, list[str]]) -> None:
    from drsdoctor.aws.failures import AwsUnavailable, failure_from

    session, sent = nothing_leaves
    before = len(sent)
    with pytest.raises(Exception) as raised:  # nobody serves the port: it was sent, and not answered
        _watched(session, "stepfunctions", sent).describe_execution(
            executionArn="arn:aws:states:eu-west-1:123456789012:execution:m:e")
    assert len(sent) > before
    assert isinstance(failure_from(raised.value, "sfn", "DescribeExecution", "e"), AwsUnavailable)


def test_each_declaring_module_is_read_as_it_would_be_imported() -> None:
    import importlib

    from drsdoctor.aws.allowlist import DECLARING_MODULES, declared

    for module in DECLARING_MODULES:
        assert declared(module) == tuple(importlib.import_module(module).READ_ACTIONS), module
