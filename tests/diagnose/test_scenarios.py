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
from drsdoctor.sandbox import faults
from tests.diagnose.conftest import EXPECTED, create_operator, operator_session

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


def _assert_read_only(session: Any) -> None:
    sent = [(record.service, record.operation) for record in session.call_log.records]
    assert sent and all(is_read_operation(service, operation) for service, operation in sent), sent
    assert all(record.outcome != "refused" for record in session.call_log.records)
    assert session.call_log.distinct_calls() == len(session.call_log)  # and each distinct call once


def test_the_healthy_run_is_healthy(world: Any, operator: dict[str, str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    arn = _recover(world)
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
