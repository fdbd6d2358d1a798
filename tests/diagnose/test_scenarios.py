"""Acceptance in-process, against one shared world: the healthy run is healthy, with every fact read and
each distinct call made once; a denied call degrades only what depends on it; nothing but reads is sent.

Every fault of the catalogue is named as the root cause through the CLI, in a subprocess against
`drsdoctor sandbox serve`, in test_scenarios_cli.py (its own module, so the two spread over both workers).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.aws import is_read_operation
from drsdoctor.commands.diagnose import diagnose_execution
from drsdoctor.reference import function_sources
from drsdoctor.sandbox import faults
from tests.diagnose.conftest import EXPECTED, create_operator, operator_session
from tests.iam.code_changes import POLLER_EC2, assuming, deployed, findings_of

pytestmark = pytest.mark.slow


def test_every_fault_of_the_catalogue_has_an_expectation() -> None:
    assert set(EXPECTED) == set(faults.FAULTS)


# ---- in-process, one world --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start() as started:
        yield started


@pytest.fixture(scope="module")
def operator(world: Any) -> dict[str, str]:
    return create_operator(world.client("iam"), "operator")


def _recover(world: Any) -> str:
    arn = world.start_recovery()
    world.run_until_settled(arn)
    return str(arn)


@pytest.fixture(scope="module")
def recovered(world: Any) -> str:
    """One finished recovery, healthy; the tests of roles judged on code change the deployment under it and
    put it back."""
    return _recover(world)


def _assert_read_only(session: Any) -> None:
    sent = [(record.service, record.operation) for record in session.call_log.records]
    assert sent and all(is_read_operation(service, operation) for service, operation in sent), sent
    assert all(record.outcome != "refused" for record in session.call_log.records)
    assert session.call_log.distinct_calls() == len(session.call_log)  # and each distinct call once


def test_the_healthy_run_is_healthy(world: Any, recovered: str, operator: dict[str, str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    arn = recovered
    session = operator_session(world.endpoint_url, operator, monkeypatch)
    snap, report = diagnose_execution(arn, session)
    assert snap.stack is not None and snap.stack.name == world.stack_name  # found by its resources
    assert sorted(f.kind for f in snap.functions) == ["finder", "orchestration", "poller"]
    assert snap.drs_jobs and snap.job_log_items and snap.fact_errors == []
    failing = [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"]
    assert failing == [] and report.root_cause is None
    assert report.exit_code == exitcodes.OK
    _assert_read_only(session)


def test_a_denied_call_degrades_only_the_checks_that_need_it(world: Any,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    denied = create_operator(world.client("iam"), "operator-no-jobs", deny=("drs:DescribeJobs",))
    arn = _recover(world)
    session = operator_session(world.endpoint_url, denied, monkeypatch)
    snap, report = diagnose_execution(arn, session)
    errors = [f for f in report.findings if f.status == "error"]
    assert errors and all(f.service == "drs" or "drs:DescribeJobs" in f.detail for f in errors)
    assert any("drs:DescribeJobs" in f.detail for f in errors)
    assert snap.functions and snap.rules and snap.execution_record is not None  # everything else intact
    assert any(f.status == "pass" for f in report.findings)
    assert report.exit_code != exitcodes.INCOMPLETE  # something could be diagnosed
    _assert_read_only(session)


# ---- roles judged on what their function's deployed code calls ------------------------------------------

def _poller_calling_ec2() -> tuple[dict[str, str], int]:
    """The reference's code with its poller reading EC2 instances first thing each poll; the call's line."""
    sources = dict(function_sources())
    poller = sources["execution_poller.py"]
    marker = "def poll(execution_id: str) -> dict[str, Any]:\n"
    sources["execution_poller.py"] = poller.replace(marker, marker + POLLER_EC2.lstrip("\n"))
    changed = sources["execution_poller.py"]
    return sources, changed[:changed.index("describe_instances")].count("\n") + 1


def test_a_call_the_poller_role_lacks_is_a_finding_at_its_line(
        world: Any, recovered: str, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sources, line = _poller_calling_ec2()
    with deployed(world, "execution-poller", sources):
        findings = findings_of(world, recovered, operator, monkeypatch, "IAM002")
    [poller_role] = [f for f in findings if "poller" in f.detail]
    assert poller_role.status == "warn", poller_role  # the run diagnosed never went through the new code
    assert "ec2:DescribeInstances" in poller_role.detail
    assert f"execution_poller.py:{line}" in poller_role.detail


def test_a_run_stuck_on_a_call_the_poller_role_lacks_has_it_as_its_root_cause(
        world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The same code run: every poll is refused (UnauthorizedOperation), the wave is never updated, the run
    is stuck on that refusal. A call the code makes that the role denies, on a path this run took, is the
    root cause (a warning only while the path has not run)."""
    sources, line = _poller_calling_ec2()
    with deployed(world, "execution-poller", sources):
        arn = world.start_recovery()
        try:
            outcome = world.run_until_settled(arn)
            session = operator_session(world.endpoint_url, operator, monkeypatch)
            _, report = diagnose_execution(arn, session)
        finally:
            _close(world, arn)
    assert outcome.status == "STUCK", outcome
    assert report.exit_code == exitcodes.PROBLEMS
    assert report.root_cause is not None
    cause = report.root_cause.finding
    assert (cause.check, cause.status) == ("IAM002", "fail"), cause
    assert "ec2:DescribeInstances" in cause.detail and f"execution_poller.py:{line}" in cause.detail


def _close(world: Any, arn: str) -> None:
    """Stop a stuck run and close its record as an operator would, so the finder stops polling it."""
    sfn = world.client("stepfunctions")
    if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        sfn.stop_execution(executionArn=arn, cause="test over")
    table = world.resource("dynamodb").Table(world.outputs["ExecutionHistoryTableName"])
    table.update_item(Key={"executionId": arn}, UpdateExpression="SET #s = :aborted",
                      ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":aborted": "ABORTED"})


def test_an_orchestrator_that_assumes_a_role_for_drs_is_judged_on_that_role(
        world: Any, recovered: str, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    with assuming(world, launcher_exists=True) as launcher:
        findings = findings_of(world, recovered, operator, monkeypatch, "IAM001")
    assert [f.status for f in findings] == ["pass", "pass"], [f.detail for f in findings]
    [assumed] = [f for f in findings if f.resource == launcher]
    assert "assumed by the orchestration function" in assumed.detail


def test_an_assumed_role_that_cannot_be_read_is_an_error_not_a_failure(
        world: Any, recovered: str, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    with assuming(world, launcher_exists=False) as launcher:
        findings = findings_of(world, recovered, operator, monkeypatch, "IAM001")
    by_role = {f.resource: f for f in findings}
    assert by_role[launcher].status == "error" and "NoSuchEntity" in by_role[launcher].detail
    assert not [f for f in findings if f.status == "fail"], [f.detail for f in findings]


def test_a_function_whose_code_is_not_python_is_judged_by_its_kind_with_a_note(
        world: Any, recovered: str, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    functions = world.client("lambda")
    name = world.function_name("execution-poller")
    functions.update_function_configuration(FunctionName=name, Runtime="nodejs20.x")
    try:
        session = operator_session(world.endpoint_url, operator, monkeypatch)
        snap, report = diagnose_execution(recovered, session)
    finally:
        functions.update_function_configuration(FunctionName=name, Runtime="python3.12")
    [poller] = [role for role in snap.role_decisions if role.kind == "poller"]
    assert poller.needs_from == "kind" and poller.decisions
    assert any(note.startswith(f"the code of function {name} could not be read (its code is nodejs20.x")
               for note in snap.notes), snap.notes
    assert [f.status for f in report.findings if f.check == "IAM002"] == ["pass", "pass"]
