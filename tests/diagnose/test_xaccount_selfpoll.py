"""selfpoll with DRS in a second account (issue 14): the state machine asks DRS in its own Task, the recovery
role comes from the functions' environment. One served world (its own module: the worlds run side by side
under `--dist loadscope`), faults switched in it, each diagnosed to its root cause with drsdoctor's read-only
role in the recovery account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.diagnose.conftest import Served, create_operator
from tests.diagnose.test_xaccount import AUDITOR, root_cause, run, serve_orchestrator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def selfpoll() -> Iterator[Served]:
    yield from serve_orchestrator("selfpoll-xaccount")


@pytest.mark.parametrize(("fault", "check", "words"), [
    ("recovery-trust-drops-account", "XAC002", "AssumeRole"),
    ("recovery-role-missing-start-recovery", "IAM001", "drs:StartRecovery"),
    ("drs-polled-wrong-region", "XAC003", "us-west-2"),
])
def test_selfpoll_across_accounts_each_fault_to_its_cause(selfpoll: Served, fault: str, check: str,
                                                         words: str) -> None:
    operator = create_operator(selfpoll.client("iam"), f"operator-{fault}")
    cause = root_cause(selfpoll, run(selfpoll, fault), operator, AUDITOR)  # read with drsdoctor's own role
    assert cause.check == check and words in " ".join([cause.detail, *cause.evidence]), cause
