"""Diagnose any orchestrator: the reference renamed by its harness (every function, table, variable, state,
rule and role name drawn from a seed) is diagnosed as the reference is, from what its deployment shows:
each fault of the catalogue gives the same root cause, and healthy and mid-run executions exit 0 with no
failing finding. One world a seed, faults switched in it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.commands.diagnose import diagnose_execution
from drsdoctor.sandbox import faults
from drsdoctor.sandbox.seed import PlanSize
from tests.diagnose.conftest import EXPECTED, create_operator, operator_session, root_cause_text

pytestmark = pytest.mark.slow

SEED = 20261202
# The faults whose diagnosis depends on finding parts by their names (the schedule, the finder's target, a
# table): run by default. DRSDOCTOR_WHOLE_CATALOGUE=1 runs the whole catalogue (minutes, not seconds).
BY_NAME = ("finder-permission-removed", "finder-rule-disabled", "poller-table-env-mismatch")
FAULTS = sorted(EXPECTED) if os.environ.get("DRSDOCTOR_WHOLE_CATALOGUE") else list(BY_NAME)
# a root cause names the renamed part where the reference's word was one of its names (the name map's key)
RENAMED_WORD = {"finder-permission-removed": "function:execution-finder",
                "poller-table-env-mismatch": "table:execution-history@archive"}


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(orchestrator=f"renamed:{SEED}", plan=PlanSize(2, 2)) as started:
        yield started


@pytest.fixture(scope="module")
def operator(world: Any) -> dict[str, str]:
    return create_operator(world.client("iam"), "operator")


def _diagnose(world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch, arn: str) -> Any:
    return diagnose_execution(arn, operator_session(world.endpoint_url, operator, monkeypatch))


def test_the_renamed_reference_is_learnt_from_its_deployment(world: Any, operator: dict[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    world.switch_fault("none")
    arn = world.start_recovery()
    world.run_until_settled(arn)
    snap, report = _diagnose(world, operator, monkeypatch, arn)
    names, topology = world.orchestrator.names(world), snap.topology
    roles = {f.name: f.kind for f in snap.functions}
    assert roles == {names["function:orchestration"]: "orchestration",
                     names["function:execution-finder"]: "finder",
                     names["function:execution-poller"]: "poller"}
    assert topology.progress.mode == "scheduled-poller"
    assert [rule.rsplit("/", 1)[-1] for rule in topology.progress.rules] == [names["rule:execution-finder"]]
    place = topology.record_place()
    assert place is not None and place.table == names["table:execution-history"]
    assert place.key_source == "execution-arn" and snap.execution_record is not None
    assert snap.execution_record.exists and snap.execution_record.waves
    assert [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"] == []
    assert report.exit_code == exitcodes.OK


def test_a_renamed_run_still_running_has_no_failing_finding(world: Any, operator: dict[str, str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    world.switch_fault("none")
    arn = world.start_recovery()
    for _ in range(200):  # until its first wave is under way, not until it ends
        status, waves, _ = world.progress(arn)
        if waves and status == "RUNNING":
            break
        world.clock.wait_until(world.clock.now(), real_timeout=0.1)
    snap, report = _diagnose(world, operator, monkeypatch, arn)
    assert snap.execution is not None and snap.execution.status == "RUNNING"
    assert [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"] == []
    assert report.exit_code == exitcodes.OK
    world.client("stepfunctions").stop_execution(executionArn=arn, cause="test over")


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_has_the_same_root_cause_renamed(fault: str, world: Any, operator: dict[str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert fault in faults.FAULTS
    world.switch_fault(fault)
    try:
        arn = world.start_recovery()
        world.run_until_settled(arn)
        _, report = _diagnose(world, operator, monkeypatch, arn)
    finally:
        world.switch_fault("none")
    checks, word = EXPECTED[fault]
    if fault in RENAMED_WORD:
        word = world.orchestrator.names(world)[RENAMED_WORD[fault]]
    assert report.exit_code == exitcodes.PROBLEMS
    failing = [f.detail for f in report.findings if f.status == "fail"]
    assert report.root_cause is not None, json.dumps(failing)
    assert report.root_cause.finding.check in checks, root_cause_text(report)
    assert word in root_cause_text(report)
