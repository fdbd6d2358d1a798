"""Diagnose any orchestrator: the reference renamed by its harness (every function, table, variable, state,
rule and role name drawn from a seed) is diagnosed as the reference is, from what its deployment shows:
each fault of the catalogue gives the same root cause, and healthy and mid-run executions exit 0 with no
failing finding. One world a seed, faults switched in it: the faults take turns over the seeds, so faults
side by side in the catalogue see different renamings (the second design, selfpoll: test_selfpoll_catalogue).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.commands.diagnose import diagnose_execution
from drsdoctor.report.json_report import report_dict
from drsdoctor.sandbox import faults
from drsdoctor.sandbox.seed import PlanSize
from tests.diagnose.conftest import EXPECTED, create_operator, operator_session, root_cause_text, run_cli
from tests.fixes.catalogue import check_fixes, check_root_cause_fix, deployment_names, reference_names

pytestmark = pytest.mark.slow

# Any seeds: names are drawn from them. DRSDOCTOR_RENAMED_SEED=N runs everything on that one seed.
SEEDS = (int(os.environ["DRSDOCTOR_RENAMED_SEED"]),) if os.environ.get("DRSDOCTOR_RENAMED_SEED") \
    else (20261202, 7, 99)
FIRST = SEEDS[0]  # the seed of the tests that are not about one fault
# a root cause names the renamed part where the reference's word was one of its names (the name map's key)
RENAMED_WORD = {"finder-permission-removed": "function:execution-finder",
                "poller-table-env-mismatch": "table:execution-history@archive"}


def seed_of(fault: str) -> int:
    """The seed whose renaming `fault` is diagnosed on: the catalogue's faults take turns."""
    return SEEDS[sorted(EXPECTED).index(fault) % len(SEEDS)]


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The reference renamed from the seed the test asks for (`indirect`): pytest runs one seed's tests
    together, so one world at a time stands, one a seed."""
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(orchestrator=f"renamed:{request.param}", plan=PlanSize(2, 2)) as started:
        yield started


@pytest.fixture(scope="module")
def operator(world: Any) -> dict[str, str]:
    return create_operator(world.client("iam"), "operator")


def _diagnose(world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch, arn: str) -> Any:
    return diagnose_execution(arn, operator_session(world.endpoint_url, operator, monkeypatch))


@pytest.mark.parametrize("world", [FIRST], indirect=True)
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


@pytest.mark.parametrize("world", [FIRST], indirect=True)
def test_a_renamed_run_still_running_has_no_failing_finding(world: Any, operator: dict[str, str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    world.switch_fault("none")
    arn = world.start_recovery()
    try:
        for _ in range(200):  # until its first wave is under way, not until it ends
            status, waves, _ = world.progress(arn)
            if waves and status == "RUNNING":
                break
            world.clock.wait_until(world.clock.now(), real_timeout=0.1)
        snap, report = _diagnose(world, operator, monkeypatch, arn)
    finally:
        _end(world, arn)
    assert snap.execution is not None and snap.execution.status == "RUNNING"
    assert [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"] == []
    assert report.exit_code == exitcodes.OK


def _end(world: Any, arn: str) -> None:
    """Stop the run and let its wave's DRS job end: the next run starts recovery of the same servers."""
    sfn = world.client("stepfunctions")
    if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        sfn.stop_execution(executionArn=arn, cause="test over")
    for _ in range(100):  # a job DRS has stalled on purpose never ends: give up after a few real seconds
        if all(job.status == "COMPLETED" for job in world.drs.describe_jobs()[0]):
            break
        world.clock.wait_until(world.clock.now() + datetime.timedelta(days=1), real_timeout=0.1)


@pytest.mark.parametrize(("world", "fault"), [pytest.param(seed_of(f), f, id=f"{f}-{seed_of(f)}")
                                              for f in sorted(EXPECTED)], indirect=["world"],
                         scope="module")  # so pytest runs one seed's tests together, one world a seed
def test_each_fault_has_the_same_root_cause_renamed(fault: str, world: Any, operator: dict[str, str],
                                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert fault in faults.FAULTS
    world.switch_fault(fault)
    try:
        arn = world.start_recovery()
        world.run_until_settled(arn)
        _, report = _diagnose(world, operator, monkeypatch, arn)
    finally:
        world.switch_fault("none")
        _end(world, arn)
    checks, word = EXPECTED[fault]
    if fault in RENAMED_WORD:
        word = world.orchestrator.names(world)[RENAMED_WORD[fault]]
    assert report.exit_code == exitcodes.PROBLEMS
    failing = [f.detail for f in report.findings if f.status == "fail"]
    assert report.root_cause is not None, json.dumps(failing)
    assert report.root_cause.finding.check in checks, root_cause_text(report)
    assert word in root_cause_text(report)
    # its fixes are commands on the renamed deployment's resources, none on the reference's names
    check_root_cause_fix(report_dict(report))
    assert check_fixes([f.to_dict() for f in report.findings], tmp_path,
                       deployment_names(world, world.stack_name), forbidden=reference_names())


@pytest.mark.parametrize("world", [FIRST], indirect=True)
def test_discover_prints_a_map_that_diagnose_accepts_and_checks(world: Any, operator: dict[str, str],
                                                                tmp_path: Any) -> None:
    import yaml

    world.switch_fault("none")
    arn = world.start_recovery()
    world.run_until_settled(arn)
    names = world.orchestrator.names(world)
    found = run_cli("discover", arn, "--format", "yaml", credentials=operator,
                    endpoint_url=world.endpoint_url)
    assert found.returncode == exitcodes.OK, found.stderr
    mapped = yaml.safe_load(found.stdout)
    assert mapped["progress"]["mode"] == "scheduled-poller"
    assert mapped["progress"]["pollers"] == [names["function:execution-poller"]]
    assert mapped["wave_status"]["table"] == names["table:execution-history"]
    assert all(part["evidence"] for part in mapped["parts"] if part["kind"] in ("function", "table", "rule"))
    text = run_cli("discover", arn, credentials=operator, endpoint_url=world.endpoint_url)
    assert text.returncode == exitcodes.OK and "progress: scheduled-poller" in text.stdout
    mapped["wave_status"]["table"] = "a-table-that-is-not-there"
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(mapped))
    done = run_cli("diagnose", arn, "--map", str(path), "-v", credentials=operator,
                   endpoint_url=world.endpoint_url)
    assert done.returncode in (exitcodes.OK, exitcodes.PROBLEMS), done.stderr
    assert "How this orchestrator works" in done.stderr
    assert "a-table-that-is-not-there, which does not exist in the region: ignored" in done.stderr
    (tmp_path / "bad.yaml").write_text("schema: nope\n")
    bad = run_cli("diagnose", arn, "--map", str(tmp_path / "bad.yaml"), credentials=operator,
                  endpoint_url=world.endpoint_url)
    assert bad.returncode == exitcodes.USAGE and "Traceback" not in bad.stderr
