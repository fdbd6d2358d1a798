"""DRS's own recovery plans, diagnosed: one sandbox world of the drs-recovery-plan orchestrator, its faults
switched in it, each run diagnosed to its cause by an operator who may read what `drsdoctor permissions`
grants. The world's clock is moved by the test (no function runs: DRS alone moves a plan)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.commands.diagnose_plan import diagnose_plan_execution, running_executions
from tests.diagnose.conftest import create_operator, operator_session, root_cause_text, run_cli

pytestmark = pytest.mark.slow

# fault -> (the check that names the root cause, words it must say, a word it must not say)
EXPECTED: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "critical-server-stalled": ("PLN002", ("db-1", "STALLED", "retry-recovery-plan-execution-step"), None),
    "optional-server-fails": ("PLN002", ("report-1", "OPTIONAL", "InsufficientInstanceCapacity"), None),
    "optional-and-critical-fail": ("PLN002", ("app-1", "CRITICAL", "STALLED"), "report-1"),
    "operator-missing-start-recovery": ("PLN003", ("drs:StartRecovery", "put-role-policy"), None),
    "operator-missing-follow-on": ("PLN003", ("drs:CreateRecoveryInstanceForDrs",), None),
    "wait-step-stuck": ("PLN004", ("settle", "cancel-recovery-plan-execution"), None),
}


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(orchestrator="drs-recovery-plan", run_clock=False) as started:
        yield started


@pytest.fixture(scope="module")
def operator(world: Any) -> dict[str, str]:
    return create_operator(world.client("iam"), "plan-reader")


def run_plan(world: Any, minutes: int = 40) -> str:
    """Start the plan as its operator role and move the clock a minute at a time until the run ends."""
    arn = world.start_recovery()
    for _ in range(minutes):
        if world.orchestrator.status(world, arn) != "RUNNING":
            break
        world.clock.advance(60)
    return arn


def diagnose(
    world: Any,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    arn: str,
    plan_role: str | None = None,
) -> Any:
    session = operator_session(world.endpoint_url, operator, monkeypatch)
    return diagnose_plan_execution(arn, session, plan_role=plan_role)[1]


def test_a_healthy_plan_is_healthy(
    world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.switch_fault("none")
    arn = run_plan(world)
    assert world.orchestrator.status(world, arn) == "SUCCEEDED"
    report = diagnose(world, operator, monkeypatch, arn, world.outputs["OperatorRoleArn"])
    assert report.exit_code == exitcodes.OK and report.root_cause is None
    assert {f.check for f in report.findings if f.status == "pass"} >= {
        "PLN001",
        "PLN002",
        "PLN003",
        "PLN005",
    }
    assert not [f for f in report.findings if not f.check.startswith("PLN")]  # a plan's checks only


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_each_fault_is_diagnosed_to_its_cause(
    world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    world.switch_fault(fault)
    arn = run_plan(world)
    expected = world.orchestrator.fault(fault).symptom
    assert world.orchestrator.status(world, arn) == {"STUCK": "RUNNING"}.get(expected, expected)
    report = diagnose(world, operator, monkeypatch, arn, world.outputs["OperatorRoleArn"])
    check, words, absent = EXPECTED[fault]
    assert report.root_cause is not None, report.summary_line()
    text = root_cause_text(report)
    assert report.root_cause.finding.check == check, text
    for word in words:
        assert word in text, (word, text)
    if absent:
        assert absent not in report.root_cause.finding.detail
    assert report.exit_code == (exitcodes.OK if expected == "SUCCEEDED" else exitcodes.PROBLEMS)


def test_the_starter_is_told_from_the_error_detail(
    world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --plan-role: the AccessDenied in the failed step names the role, whose policy is then judged."""
    world.switch_fault("operator-missing-start-recovery")
    report = diagnose(world, operator, monkeypatch, run_plan(world))
    assert report.root_cause is not None and report.root_cause.finding.check == "PLN003"
    assert "errorDetail of step 1" in report.root_cause.finding.detail
    assert "drs:StartRecovery" in report.root_cause.finding.detail


def test_a_stuck_plan_is_found_by_running_and_blocks_the_failed_ones_retry(
    world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world.switch_fault("critical-server-stalled")
    failed = run_plan(world)
    world.switch_fault("wait-step-stuck")
    stuck = run_plan(world, minutes=25)
    assert world.orchestrator.status(world, stuck) == "RUNNING"
    # the failed run's step cannot be retried while the stuck one runs: said, with the cancel command
    report = diagnose(world, operator, monkeypatch, failed, world.outputs["OperatorRoleArn"])
    other = next(f for f in report.findings if f.check == "PLN005" and f.status == "warn")
    assert other.resource == stuck and "cancel-recovery-plan-execution" in other.remediation
    assert report.root_cause is not None and report.root_cause.finding.check == "PLN002"
    session = operator_session(world.endpoint_url, operator, monkeypatch)
    fleet = running_executions(world.plans[0].plan_id, session, plan_role=world.outputs["OperatorRoleArn"])
    [row] = fleet.rows
    assert row.arn == stuck and row.wave == "2/4 WAITING" and row.state == "settle"
    assert row.report is not None and row.report.root_cause is not None
    assert row.report.root_cause.finding.check == "PLN004" and fleet.exit_code == exitcodes.PROBLEMS
    world.switch_fault("none")  # the repair cancels the stuck run
    assert world.orchestrator.status(world, stuck) == "ABORTED"


def test_an_execution_that_cannot_be_read_gets_no_verdict(world: Any) -> None:
    denied = create_operator(
        world.client("iam"), "plan-reader-denied", deny=("drs:GetRecoveryPlanExecution",)
    )
    world.switch_fault("none")
    arn = run_plan(world)
    done = run_cli("diagnose", arn, credentials=denied, endpoint_url=world.endpoint_url)
    assert done.returncode == exitcodes.INCOMPLETE, done.stdout + done.stderr
    assert done.stdout == ""  # no report, so no verdict
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert "GetRecoveryPlanExecution" in line and "AccessDenied" in line


def test_an_unknown_execution_is_exit_3(
    world: Any, operator: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from drsdoctor.collect.plans import PlanExecutionNotFound

    unknown = world.plans[0].plan_id.replace("recovery-plan/rp-", "recovery-plan-execution/rpe-")
    with pytest.raises(PlanExecutionNotFound) as missing:
        diagnose(world, operator, monkeypatch, unknown)
    assert missing.value.exit_code == exitcodes.INCOMPLETE and "does not exist" in str(missing.value)


PLAN = "arn:aws:drs:us-east-1:123456789012:recovery-plan/rp-0123456789abcdef0"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((PLAN,), "is a DRS recovery-plan ARN, not a recovery-plan-execution ARN"),
        (("arn:aws:drs:us-east-1:123456789012:recovery-plan-execution/",), "malformed DRS ARN"),
        (
            ("--recovery-plan", PLAN.replace("recovery-plan/", "recovery-plan-execution/"), "--running"),
            "not a recovery-plan ARN",
        ),
        (("--recovery-plan", PLAN), "goes with --running"),
    ],
)
def test_a_bad_recovery_plan_argument_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: str
) -> None:
    from drsdoctor.cli import main

    with pytest.raises(SystemExit) as done:
        main(["diagnose", *args, "--endpoint-url", "http://127.0.0.1:9"])  # never called: input fails first
    err = capsys.readouterr().err.strip().splitlines()
    assert done.value.code == exitcodes.USAGE and len(err) == 1 and says in err[0], err


@pytest.mark.parametrize(
    "denied",
    [
        ("drs:ListRecoveryPlanExecutionSteps", "drs:ListRecoveryPlanExecutions"),
        ("drs:GetRecoveryPlanExecutionStep",),
    ],
)
def test_without_a_plan_read_an_error_names_it(
    world: Any, monkeypatch: pytest.MonkeyPatch, denied: tuple[str, ...]
) -> None:
    """Each read `drsdoctor permissions` grants for a plan is needed: denied, an error finding names it."""
    world.switch_fault("wait-step-stuck")  # a step under way: its GetRecoveryPlanExecutionStep is asked
    arn = run_plan(world, minutes=15)
    reader = create_operator(world.client("iam"), "plan-reader-without-" + str(len(denied)), deny=denied)
    report = diagnose(world, reader, monkeypatch, arn)
    world.switch_fault("none")  # the repair cancels the waiting run
    errors = " ".join(f.detail for f in report.findings if f.status == "error")
    for action in denied:
        assert action.split(":")[1] in errors, (action, errors)
