"""DRS's recovery plans in the simulator, through a real boto3 client: every raw answer keeps botocore's model
(the conftest's checker), executions move on the model's clock, one non-terminal execution per plan."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from drsdoctor.sandbox.drs.plans_wire import plans_of
from drsdoctor.sandbox.drs.wire import DrsWireApp

OPERATOR = "arn:aws:iam::123456789012:user/operator"


def _plan(drs, model, *, failing: str | None = None, failing_impact: str = "CRITICAL"):
    """A plan of three steps: db01 (CRITICAL) with web01 (OPTIONAL), a 5-minute wait, app01 (CRITICAL)."""
    servers = {name: model.add_source_server(name) for name in ("db01", "web01", "app01")}
    if failing:
        model.set_outcome(servers[failing].source_server_id, "FAILED", reason="InsufficientInstanceCapacity")
    plan = drs.create_recovery_plan(name="erp")["recoveryPlan"]["recoveryPlanArn"]
    first = [
        {"serverArn": servers["db01"].arn, "impactLevel": "CRITICAL"},
        {
            "serverArn": servers["web01"].arn,
            "impactLevel": "OPTIONAL" if failing_impact == "CRITICAL" else failing_impact,
        },
    ]
    drs.create_recovery_plan_step(
        recoveryPlanArn=plan,
        stepName="databases",
        configuration={"serverStepConfiguration": {"servers": first}},
    )
    drs.create_recovery_plan_step(
        recoveryPlanArn=plan,
        stepName="settle",
        configuration={"waitStepConfiguration": {"waitDurationMinutes": 5}},
    )
    drs.create_recovery_plan_step(
        recoveryPlanArn=plan,
        stepName="apps",
        configuration={"serverStepConfiguration": {"servers": [{"serverArn": servers["app01"].arn}]}},
    )
    return plan, servers


def _steps(drs, execution):
    return drs.list_recovery_plan_execution_steps(recoveryPlanExecutionArn=execution)[
        "recoveryPlanExecutionSteps"
    ]


def _run(drs, clock, execution, minutes=30):
    for _ in range(minutes):
        clock.advance(60)
        found = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=execution)["recoveryPlanExecution"]
        if found["status"] not in ("CREATED", "IN_PROGRESS", "CANCELLING"):
            return found
    return found


def test_a_plan_runs_its_steps_in_order_and_completes(drs, model, clock, checker):
    plan, _ = _plan(drs, model)
    execution = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"]
    arn = execution["recoveryPlanExecutionArn"]
    clock.advance(30)
    assert [s["status"] for s in _steps(drs, arn)] == ["EXECUTING", "NOT_STARTED", "NOT_STARTED"]
    clock.advance(95)  # db01's job ended at 5 + 20*... seconds of the default phases: keep going
    done = _run(drs, clock, arn)
    assert done["status"] == "COMPLETED" and "errorDetail" not in done
    steps = _steps(drs, arn)
    assert [s["status"] for s in steps] == ["COMPLETED", "COMPLETED", "COMPLETED"]
    job = steps[0]["configuration"]["executionServerStepConfiguration"]["servers"][0]["jobID"]
    assert drs.describe_jobs(filters={"jobIDs": [job]})["items"][0]["initiatedBy"] == "START_DRILL"
    wait = drs.get_recovery_plan_execution_step(
        recoveryPlanExecutionStepArn=steps[1]["recoveryPlanExecutionStepArn"]
    )
    began = drs.get_recovery_plan_execution_step(
        recoveryPlanExecutionStepArn=steps[0]["recoveryPlanExecutionStepArn"]
    )
    # the wait ends exactly its minutes after the step before it ended, whenever the clock was read
    from datetime import datetime

    gap = datetime.fromisoformat(
        wait["recoveryPlanExecutionStep"]["updatedAt"].replace("Z", "+00:00")
    ) - datetime.fromisoformat(began["recoveryPlanExecutionStep"]["updatedAt"].replace("Z", "+00:00"))
    assert gap.total_seconds() == 300
    assert {
        "StartRecoveryPlanExecution",
        "ListRecoveryPlanExecutionSteps",
        "GetRecoveryPlanExecution",
        "GetRecoveryPlanExecutionStep",
        "CreateRecoveryPlanStep",
    } <= set(checker.checked)


def test_a_critical_failure_fails_the_step_with_its_error_detail_and_a_retry_runs_it_again(drs, model, clock):
    plan, servers = _plan(drs, model, failing="db01")
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="RECOVERY")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    failed = _run(drs, clock, arn)
    assert failed["status"] == "FAILED" and failed["errorDetail"]["code"] == "STEP_FAILED"
    first = _steps(drs, arn)[0]
    assert first["status"] == "FAILED" and first["errorDetail"]["code"] == "LAUNCH_FAILED"
    assert servers["db01"].source_server_id in first["errorDetail"]["message"]
    model.set_outcome(servers["db01"].source_server_id, "LAUNCHED")
    retried = drs.retry_recovery_plan_execution_step(
        recoveryPlanExecutionStepArn=first["recoveryPlanExecutionStepArn"]
    )
    assert retried["recoveryPlanExecutionStep"]["attempt"] == 2
    assert _run(drs, clock, arn)["status"] == "COMPLETED"


def test_an_optional_failure_does_not_fail_the_step(drs, model, clock):
    plan, _ = _plan(drs, model, failing="web01")
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    assert _run(drs, clock, arn)["status"] == "COMPLETED"


def test_one_execution_of_a_plan_at_a_time_and_cancel_skips_the_rest(drs, model, clock):
    plan, _ = _plan(drs, model)
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    with pytest.raises(ClientError) as refused:
        drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    assert (
        drs.list_recovery_plan_executions(recoveryPlanArn=plan, status="IN_PROGRESS")[
            "recoveryPlanExecutions"
        ][0]["recoveryPlanExecutionArn"]
        == arn
    )
    clock.advance(30)
    assert (
        drs.cancel_recovery_plan_execution(recoveryPlanExecutionArn=arn)["recoveryPlanExecution"]["status"]
        == "CANCELLING"
    )  # its job still runs
    assert _run(drs, clock, arn)["status"] == "CANCELLED"
    assert [s["status"] for s in _steps(drs, arn)][1:] == ["SKIPPED", "SKIPPED"]
    drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")


def test_a_stalled_wait_never_ends(drs, model, clock):
    plan, _ = _plan(drs, model)
    plans_of(model).stall_waits = True
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    clock.advance(30 * 60)  # read once, half an hour on: the execution caught up to where it stands
    found = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=arn)["recoveryPlanExecution"]
    assert found["status"] == "IN_PROGRESS"
    assert [s["status"] for s in _steps(drs, arn)] == ["COMPLETED", "WAITING", "NOT_STARTED"]


def test_the_starter_needs_start_recovery_when_a_step_begins(model, serve, client_for, clock):
    def authorize(principal, action, resource):
        return "implicitDeny" if action == "drs:StartRecovery" else "allowed"

    drs = client_for(serve(DrsWireApp(model, identify=lambda _key: OPERATOR, authorize=authorize)))
    plan, _ = _plan(drs, model)
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    assert _run(drs, clock, arn)["status"] == "FAILED"
    first = _steps(drs, arn)[0]
    assert first["errorDetail"]["code"] == "AccessDeniedException"
    assert (
        OPERATOR in first["errorDetail"]["message"] and "drs:StartRecovery" in first["errorDetail"]["message"]
    )


def test_a_job_that_runs_past_the_step_timeout_times_the_step_out(serve, client_for, clock):
    from drsdoctor.sandbox.drs.model import DrsModel, Phases

    slow = DrsModel(region="us-east-1", account_id="123456789012", now=clock, phases=Phases(launch=2 * 3600))
    drs = client_for(serve(DrsWireApp(slow)))
    plan, _ = _plan(drs, slow)
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    clock.advance(2 * 3600)
    found = drs.get_recovery_plan_execution(recoveryPlanExecutionArn=arn)["recoveryPlanExecution"]
    assert found["status"] == "FAILED"  # at the step's deadline, an hour after it began
    assert found["completedAt"].startswith("2026-01-07T11:00:00")
    first = _steps(drs, arn)[0]
    assert first["status"] == "TIMED_OUT" and first["errorDetail"]["code"] == "STEP_TIMED_OUT"


PLAN_OPERATIONS = {
    name
    for name in __import__("drsdoctor.sandbox.drs.wire", fromlist=["service_model"])
    .service_model()
    .operation_names
    if "RecoveryPlan" in name
}


def test_every_recovery_plan_operation_answers_in_its_shape(drs, model, clock, checker):
    plan, _ = _plan(drs, model)
    steps = drs.list_recovery_plan_steps(recoveryPlanArn=plan)["recoveryPlanSteps"]
    drs.get_recovery_plan(recoveryPlanArn=plan)
    drs.update_recovery_plan(recoveryPlanArn=plan, description="nightly drill")
    drs.list_recovery_plans()
    drs.get_recovery_plan_step(recoveryPlanStepArn=steps[0]["recoveryPlanStepArn"])
    drs.update_recovery_plan_step(recoveryPlanStepArn=steps[1]["recoveryPlanStepArn"], stepName="pause")
    reordered = drs.reorder_recovery_plan_steps(
        recoveryPlanArn=plan, orderedStepArns=[steps[i]["recoveryPlanStepArn"] for i in (0, 2, 1)]
    )["recoveryPlanSteps"]
    assert [s["stepName"] for s in reordered] == ["databases", "apps", "pause"]
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    last = _steps(drs, arn)[2]["recoveryPlanExecutionStepArn"]
    drs.get_recovery_plan_execution_step(recoveryPlanExecutionStepArn=last)
    skipped = drs.update_recovery_plan_execution_step(recoveryPlanExecutionStepArn=last, status="SKIPPED")
    assert skipped["recoveryPlanExecutionStep"]["status"] == "SKIPPED"
    assert _run(drs, clock, arn)["status"] == "COMPLETED"
    with pytest.raises(ClientError):  # a FAILED or TIMED_OUT server step only
        drs.retry_recovery_plan_execution_step(recoveryPlanExecutionStepArn=last)
    drs.list_recovery_plan_executions()
    drs.delete_recovery_plan_execution(recoveryPlanExecutionArn=arn)
    arn = drs.start_recovery_plan_execution(recoveryPlanArn=plan, mode="DRILL")["recoveryPlanExecution"][
        "recoveryPlanExecutionArn"
    ]
    with pytest.raises(ClientError) as busy:
        drs.delete_recovery_plan(recoveryPlanArn=plan)
    assert busy.value.response["Error"]["Code"] == "ConflictException"
    drs.cancel_recovery_plan_execution(recoveryPlanExecutionArn=arn)
    _run(drs, clock, arn)
    drs.delete_recovery_plan_step(recoveryPlanStepArn=steps[1]["recoveryPlanStepArn"])
    drs.delete_recovery_plan(recoveryPlanArn=plan)
    assert set(checker.checked) >= PLAN_OPERATIONS and len(PLAN_OPERATIONS) == 20
