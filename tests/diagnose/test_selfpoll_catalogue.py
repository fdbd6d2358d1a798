"""A second design diagnosed by what its deployment shows: selfpoll's state machine polls DRS itself (no
finder, no table it waits on), its functions and roles have their own names, its schedule only mirrors status.

Each fault of its catalogue is named as its root cause; a healthy run and a run whose mirror schedule is
disabled (it still SUCCEEDS) have no failing finding. And a diagnosis that cannot read the fact a check needs
(one denied read per check family) gives that check `error`, never a confident fail.

One world, faults switched in it; moto judges the operator's reads by its policy (`authorize`), so a denied
read is refused as AWS refuses it. Each recovery is diagnosed twice: with every read, and with one denied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.commands.diagnose import diagnose_execution
from drsdoctor.report.json_report import report_dict
from drsdoctor.sandbox.orchestrators import selfpoll
from tests.diagnose.conftest import create_operator, operator_session, root_cause_text
from tests.fixes.catalogue import check_fixes, check_root_cause_fix, deployment_names, reference_names

pytestmark = pytest.mark.slow

# fault -> (checks that may name it as the root cause, a word the root cause must mention)
EXPECTED: dict[str, tuple[set[str], str]] = {
    "server-launch-failure": ({"DRS002", "DRS003"}, "stalled"),
    "orchestrator-missing-follow-on": ({"IAM001"}, "drs:CreateRecoveryInstanceForDrs"),
    "probe-missing-drs-describe": ({"IAM001"}, "drs:DescribeJobs"),
    "probe-import-failure": ({"LMB004", "SFN003"}, "RECOVERY_ZONE"),
    "probe-choice-drift": ({"SFN005"}, "'Launched'"),
}
HEALTHY = ("none", "mirror-schedule-disabled")  # the recovery SUCCEEDS: no failing finding, exit 0
# fault -> (the read denied to the operator, the check that then lacks its fact): one per check family
UNREADABLE: dict[str, tuple[str, str]] = {
    "server-launch-failure": ("drs:DescribeJobLogItems", "DRS002"),
    "orchestrator-missing-follow-on": ("iam:GetRolePolicy", "IAM001"),
    "probe-import-failure": ("logs:FilterLogEvents", "LMB004"),
    "probe-choice-drift": ("cloudformation:GetTemplate", "SFN005"),
    "mirror-schedule-disabled": ("events:DescribeRule", "EVT001"),
}
# A wave's job changes at least every 40 simulated seconds and the machine probes it every 30: three quiet
# minutes is already a loop. A run that must end is waited for to its end (a starved engine can pause).
STUCK_AFTER, UNTIL_IT_ENDS = 3 * 60.0, 10.0**9
SPEED = 1200.0  # functions hold the clock while they run, so nothing is skipped


def test_every_fault_of_selfpoll_has_an_expectation() -> None:
    catalogue = set(selfpoll.orchestrator().faults)
    assert catalogue == set(EXPECTED) | set(HEALTHY[1:])
    assert set(UNREADABLE) <= catalogue
    families = {check[:3] for _, check in UNREADABLE.values()}
    assert families == {"DRS", "IAM", "LMB", "SFN", "EVT"}


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(orchestrator="selfpoll", speed=SPEED, authorize=True) as started:
        yield started


@pytest.fixture(scope="module")
def operator(world: Any) -> dict[str, str]:
    return create_operator(world.client("iam"), "operator")


def _recover(world: Any, fault: str) -> str:
    """Switch the world to `fault`, run the first plan until it ends or loops; the execution ARN."""
    world.switch_fault(fault)
    arn = world.start_recovery()
    loops = fault != "none" and world.orchestrator.fault(fault).symptom == "STUCK"
    outcome = world.run_until_settled(arn, stuck_after=STUCK_AFTER if loops else UNTIL_IT_ENDS)
    for _ in range(3):  # a starved engine can look stuck before DRS has launched the wave it loops on
        if outcome.status != "STUCK" or "LAUNCHED" in outcome.wave_statuses:
            break
        outcome = world.run_until_settled(arn, stuck_after=STUCK_AFTER)
    expected = {"none": "SUCCEEDED"}.get(fault) or world.orchestrator.fault(fault).symptom
    assert outcome.status == expected, outcome
    return str(arn)


def _end(world: Any, arn: str) -> None:
    """Repair, and close a looping run as an operator would, so the mirror stops mirroring it."""
    world.switch_fault("none")
    sfn = world.client("stepfunctions")
    if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        sfn.stop_execution(executionArn=arn, cause="test over")
        world.client("dynamodb").update_item(
            TableName=world.names["table:execution-history"],
            Key={"RunName": {"S": selfpoll.run_name(arn)}, "Entry": {"S": "RUN"}},
            UpdateExpression="SET RunStatus = :aborted",
            ExpressionAttributeValues={":aborted": {"S": "ABORTED"}})


def _diagnose(world: Any, credentials: dict[str, str], monkeypatch: pytest.MonkeyPatch, arn: str) -> Any:
    return diagnose_execution(arn, operator_session(world.endpoint_url, credentials, monkeypatch))


def _unreadable(world: Any, fault: str, arn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnosed by an operator denied the read UNREADABLE names: that check errs, naming the read; it
    never fails, and never names the root cause."""
    if fault not in UNREADABLE:
        return
    action, check = UNREADABLE[fault]
    denied = create_operator(world.client("iam"), f"operator-no-{action.replace(':', '-')}", deny=(action,))
    _, report = _diagnose(world, denied, monkeypatch, arn)
    findings = [f for f in report.findings if f.check == check]
    assert findings and all(f.status in ("error", "skip") for f in findings), [(f.status, f.detail)
                                                                             for f in findings]
    assert any(f.status == "error" and action in f.detail for f in findings), [f.detail for f in findings]
    assert report.root_cause is None or report.root_cause.finding.check != check
    assert report.exit_code in (exitcodes.PROBLEMS, exitcodes.INCOMPLETE, exitcodes.OK)


@pytest.mark.parametrize("fault", HEALTHY)
def test_a_self_polling_run_is_healthy_whatever_its_mirror_schedule(
        fault: str, world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    arn = _recover(world, fault)
    try:
        snap, report = _diagnose(world, operator, monkeypatch, arn)
        _unreadable(world, fault, arn, monkeypatch)
    finally:
        _end(world, arn)
    names = world.orchestrator.names(world)
    topology = snap.topology
    assert topology.progress.mode == "self-polling" and topology.progress.rules == []
    assert topology.history_place() is not None
    assert {f.name: f.kind for f in snap.functions}[names["function:mirror"]] == "other"
    assert [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"] == []
    assert report.exit_code == exitcodes.OK
    warned = [f for f in report.findings if f.check == "EVT001" and f.status == "warn"]
    assert bool(warned) == (fault != "none")
    assert all(names["function:mirror"] in f.detail and "does not drive" in f.detail for f in warned)
    # the warning's fix enables the mirror's own rule
    enable = f"aws events enable-rule --name {names['rule:mirror']}"
    assert [f.remediation for f in warned] == [enable] * len(warned)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_selfpoll_fault_is_named_as_its_root_cause(
        fault: str, world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    arn = _recover(world, fault)
    try:
        snap, report = _diagnose(world, operator, monkeypatch, arn)
        _unreadable(world, fault, arn, monkeypatch)
    finally:
        _end(world, arn)
    checks, word = EXPECTED[fault]
    assert report.exit_code == exitcodes.PROBLEMS
    failing = [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"]
    assert report.root_cause is not None, failing
    assert report.root_cause.finding.check in checks, root_cause_text(report)
    assert word in root_cause_text(report), root_cause_text(report)
    # its fix is a command the AWS CLI accepts, on selfpoll's own resources, never the reference's names
    check_root_cause_fix(report_dict(report))
    assert check_fixes([f.to_dict() for f in report.findings], tmp_path,
                       deployment_names(world, world.stack_name), forbidden=reference_names())
    remedy = report.root_cause.finding.remedy
    assert remedy is not None
    if fault == "probe-choice-drift":  # deployed as the fix says, the definition is its template's again
        from drsdoctor.engine import diagnose

        (definition,) = remedy.files
        snap.state_machine.definition = definition.content
        assert {f.status for f in diagnose(snap, only=["SFN005"]).findings} == {"pass"}
    if fault == "probe-import-failure":  # the variable the probe lacks, with the value its siblings agree on
        names = world.orchestrator.names(world)
        launcher = world.client("lambda").get_function_configuration(FunctionName=names["function:launcher"])
        variable = names["env:DRS_REGION"]
        environment = json.loads(remedy.commands[0].argv[-1])["Variables"]
        assert remedy.commands[0].argv[4] == names["function:probe"]
        assert environment[variable] == launcher["Environment"]["Variables"][variable]


def test_a_self_polling_run_still_running_has_no_failing_finding(
        world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnosed while its first wave's DRS job is under way: nothing is wrong yet, so nothing fails."""
    import datetime

    world.switch_fault("none")
    arn = world.start_recovery()
    try:
        for _ in range(200):  # until DRS has a job of this run, not until the run ends
            status, _, _ = world.progress(arn)
            jobs, _ = world.recovery_drs.describe_jobs()
            if status == "RUNNING" and any(job.status != "COMPLETED" for job in jobs):
                break
            world.clock.wait_until(world.clock.now(), real_timeout=0.1)
        snap, report = _diagnose(world, operator, monkeypatch, arn)
    finally:
        _end(world, arn)
        for _ in range(100):  # the next run recovers the same servers: let this run's job end first
            if all(job.status == "COMPLETED" for job in world.recovery_drs.describe_jobs()[0]):
                break
            world.clock.wait_until(world.clock.now() + datetime.timedelta(hours=1), real_timeout=0.1)
    assert snap.execution is not None and snap.execution.status == "RUNNING"
    assert snap.drs_jobs, "diagnosed before DRS had a job: not mid-run"
    assert [f"{f.check} {f.detail}" for f in report.findings if f.status == "fail"] == []
    assert report.exit_code == exitcodes.OK
