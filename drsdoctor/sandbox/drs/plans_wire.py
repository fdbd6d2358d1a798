"""The recovery-plan operations of DRS's wire protocol, over plans.py: DrsWireApp asks `handler(app, name)`
for an operation it does not handle itself. Each operation is authorised as its own IAM action on the plan
(or execution) ARN; a server step's job is started with the execution starter's permissions, follow-on actions
included, as StartRecovery would be."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drsdoctor.sandbox.drs.entities import Job, iso
from drsdoctor.sandbox.drs.follow_on import follow_on_requests
from drsdoctor.sandbox.drs.plans import (
    ExecutionStep,
    PlanExecution,
    PlanServer,
    PlanStep,
    RecoveryPlan,
    RecoveryPlans,
)

if TYPE_CHECKING:
    from drsdoctor.sandbox.drs.model import DrsModel
    from drsdoctor.sandbox.drs.wire import DrsWireApp

Handler = Callable[[str, dict[str, Any]], "dict[str, Any] | None"]
_PLANS: weakref.WeakKeyDictionary[DrsModel, RecoveryPlans] = weakref.WeakKeyDictionary()


def plans_of(model: DrsModel) -> RecoveryPlans:
    """The recovery plans kept beside this DRS model (one account, one region)."""
    plans = _PLANS.get(model)
    if plans is None:
        plans = _PLANS[model] = RecoveryPlans(model)
    return plans


def handler(app: DrsWireApp, operation: str) -> Handler | None:
    """The handler of a recovery-plan operation, or None when `operation` is not one."""
    method = _OPERATIONS.get(operation)
    if method is None:
        return None
    plans = plans_of(app.model)
    if plans.launch is None:
        plans.launch = lambda starter, ids, drill, at: _launch(app, starter, ids, drill, at)
    return lambda principal, params: method(app, plans, principal, params)


def _launch(app: DrsWireApp, starter: str, ids: list[str], drill: bool, at: datetime) -> Job:
    """StartRecovery for a plan step, as the execution's starter: its drs:StartRecovery, then what DRS does
    with its credentials (a denied follow-on action fails the job's servers, not the call)."""
    model = app.model
    arns = [model.arn("source-server", sid) for sid in dict.fromkeys(ids)]
    for arn in arns:
        app._require(starter, "drs:StartRecovery", arn)
    denied = [
        action
        for action, resource, context in follow_on_requests(arns, model.account_id, model.region)
        if app.authorize_in_context(starter, action, resource, context) not in (True, "allowed")
    ]
    return model.start_recovery(ids, is_drill=drill, denied_actions=dict.fromkeys(denied), at=at)


# -- operations -------------------------------------------------------------------------------------------


def _create_plan(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:CreateRecoveryPlan", "*")
    return {
        "recoveryPlan": _plan(
            plans.create_plan(params["name"], params.get("description"), params.get("tags"))
        )
    }


def _get_plan(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:GetRecoveryPlan", params["recoveryPlanArn"])
    return {"recoveryPlan": _plan(plans.plan(params["recoveryPlanArn"]))}


def _update_plan(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:UpdateRecoveryPlan", params["recoveryPlanArn"])
    plan = plans.plan(params["recoveryPlanArn"])
    plan.name = params.get("name", plan.name)
    plan.description = params.get("description", plan.description)
    plan.updated_at = app.model.now()
    return {"recoveryPlan": _plan(plan)}


def _delete_plan(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:DeleteRecoveryPlan", params["recoveryPlanArn"])
    plans.advance()
    plans.delete_plan(params["recoveryPlanArn"])
    return {"recoveryPlanArn": params["recoveryPlanArn"]}


def _list_plans(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:ListRecoveryPlans", "*")
    found, token = plans.list_plans(params.get("maxResults"), params.get("nextToken"))
    # a summary: RecoveryPlanSummary has no description and no tags
    summaries = [{k: v for k, v in _plan(plan).items() if k not in ("description", "tags")} for plan in found]
    return {"recoveryPlans": summaries, **({"nextToken": token} if token else {})}


def _create_step(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:CreateRecoveryPlanStep", params["recoveryPlanArn"])
    servers, wait = _configuration(params["configuration"])
    step = plans.create_step(
        params["recoveryPlanArn"], params["stepName"], servers, wait, params.get("stepOrder")
    )
    return {"recoveryPlanStep": _plan_step(step)}


def _get_step(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:GetRecoveryPlanStep", params["recoveryPlanStepArn"])
    return {"recoveryPlanStep": _plan_step(plans.step(params["recoveryPlanStepArn"])[1])}


def _update_step(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:UpdateRecoveryPlanStep", params["recoveryPlanStepArn"])
    _, step = plans.step(params["recoveryPlanStepArn"])
    step.name = params.get("stepName", step.name)
    if "configuration" in params:
        servers, wait = _configuration(params["configuration"])
        if (servers is None) != (step.servers is None):
            from drsdoctor.sandbox.drs.entities import validation_error

            raise validation_error("A step's type cannot change", "configuration")
        step.servers, step.wait_minutes = servers, wait
    step.updated_at = app.model.now()
    return {"recoveryPlanStep": _plan_step(step)}


def _delete_step(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:DeleteRecoveryPlanStep", params["recoveryPlanStepArn"])
    plans.delete_step(params["recoveryPlanStepArn"])
    return {"recoveryPlanStepArn": params["recoveryPlanStepArn"]}


def _list_steps(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:ListRecoveryPlanSteps", params["recoveryPlanArn"])
    return {"recoveryPlanSteps": [_plan_step(step) for step in plans.plan(params["recoveryPlanArn"]).steps]}


def _reorder(app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]) -> dict[str, Any]:
    app._require(principal, "drs:ReorderRecoveryPlanSteps", params["recoveryPlanArn"])
    steps = plans.reorder(params["recoveryPlanArn"], params["orderedStepArns"])
    return {"recoveryPlanSteps": [_plan_step(step) for step in steps]}


def _start(app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]) -> dict[str, Any]:
    app._require(principal, "drs:StartRecoveryPlanExecution", params["recoveryPlanArn"])
    execution = plans.start(params["recoveryPlanArn"], params["mode"], principal, params.get("tags"))
    return {"recoveryPlanExecution": _execution(execution)}


def _get_execution(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:GetRecoveryPlanExecution", params["recoveryPlanExecutionArn"])
    return {"recoveryPlanExecution": _execution(plans.execution(params["recoveryPlanExecutionArn"]))}


def _list_executions(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    app._require(principal, "drs:ListRecoveryPlanExecutions", "*")
    found, token = plans.list_executions(
        params.get("recoveryPlanArn"), params.get("status"), params.get("maxResults"), params.get("nextToken")
    )
    summaries = [
        {key: value for key, value in _execution(ex).items() if key not in ("completedAt", "tags")}
        for ex in found
    ]
    return {"recoveryPlanExecutions": summaries, **({"nextToken": token} if token else {})}


def _cancel(app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]) -> dict[str, Any]:
    app._require(principal, "drs:CancelRecoveryPlanExecution", params["recoveryPlanExecutionArn"])
    return {"recoveryPlanExecution": _execution(plans.cancel(params["recoveryPlanExecutionArn"]))}


def _delete_execution(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    arn = params["recoveryPlanExecutionArn"]
    app._require(principal, "drs:DeleteRecoveryPlanExecution", arn)
    execution = plans.execution(arn)
    if execution.status not in ("COMPLETED", "FAILED", "CANCELLED"):
        from drsdoctor.sandbox.drs.plans import _conflict

        raise _conflict(
            f"Recovery plan execution {arn} is {execution.status}", arn, "RECOVERY_PLAN_EXECUTION"
        )
    del plans.executions[arn]
    return {"recoveryPlanExecutionArn": arn}


def _list_execution_steps(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    arn = params["recoveryPlanExecutionArn"]
    app._require(principal, "drs:ListRecoveryPlanExecutionSteps", arn)
    wanted = (params.get("filter") or {}).get("status")
    steps = [step for step in plans.execution(arn).steps if wanted is None or step.status == wanted]
    summaries = [
        {
            key: value
            for key, value in _execution_step(step).items()
            if key not in ("attempt", "createdAt", "updatedAt")
        }
        for step in steps
    ]
    return {"recoveryPlanExecutionSteps": summaries}


def _get_execution_step(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    arn = params["recoveryPlanExecutionStepArn"]
    app._require(principal, "drs:GetRecoveryPlanExecutionStep", arn)
    return {"recoveryPlanExecutionStep": _execution_step(plans.execution_step(arn)[1])}


def _retry(app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["recoveryPlanExecutionStepArn"]
    app._require(principal, "drs:RetryRecoveryPlanExecutionStep", arn)
    return {"recoveryPlanExecutionStep": _execution_step(plans.retry(arn))}


def _update_execution_step(
    app: DrsWireApp, plans: RecoveryPlans, principal: str, params: dict[str, Any]
) -> dict[str, Any]:
    arn = params["recoveryPlanExecutionStepArn"]
    app._require(principal, "drs:UpdateRecoveryPlanExecutionStep", arn)
    step = plans.update_step(arn, params.get("status"), params.get("waitDurationMinutes"))
    return {"recoveryPlanExecutionStep": _execution_step(step)}


_OPERATIONS: dict[str, Callable[[DrsWireApp, RecoveryPlans, str, dict[str, Any]], Any]] = {
    "CreateRecoveryPlan": _create_plan,
    "GetRecoveryPlan": _get_plan,
    "UpdateRecoveryPlan": _update_plan,
    "DeleteRecoveryPlan": _delete_plan,
    "ListRecoveryPlans": _list_plans,
    "CreateRecoveryPlanStep": _create_step,
    "GetRecoveryPlanStep": _get_step,
    "UpdateRecoveryPlanStep": _update_step,
    "DeleteRecoveryPlanStep": _delete_step,
    "ListRecoveryPlanSteps": _list_steps,
    "ReorderRecoveryPlanSteps": _reorder,
    "StartRecoveryPlanExecution": _start,
    "GetRecoveryPlanExecution": _get_execution,
    "ListRecoveryPlanExecutions": _list_executions,
    "CancelRecoveryPlanExecution": _cancel,
    "DeleteRecoveryPlanExecution": _delete_execution,
    "ListRecoveryPlanExecutionSteps": _list_execution_steps,
    "GetRecoveryPlanExecutionStep": _get_execution_step,
    "RetryRecoveryPlanExecutionStep": _retry,
    "UpdateRecoveryPlanExecutionStep": _update_execution_step,
}


# -- DRS's JSON ------------------------------------------------------------------------------------------


def _configuration(raw: dict[str, Any]) -> tuple[list[PlanServer] | None, int | None]:
    servers = raw.get("serverStepConfiguration")
    wait = raw.get("waitStepConfiguration")
    listed = (
        [PlanServer(s["serverArn"], s.get("impactLevel", "CRITICAL")) for s in servers["servers"]]
        if servers
        else None
    )
    return listed, (int(wait["waitDurationMinutes"]) if wait else None)


def _plan(plan: RecoveryPlan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recoveryPlanArn": plan.arn,
        "name": plan.name,
        "status": plan.status,
        "createdAt": iso(plan.created_at),
        "updatedAt": iso(plan.updated_at),
    }
    if plan.description is not None:
        body["description"] = plan.description
    if plan.tags:
        body["tags"] = dict(plan.tags)
    return body


def _servers(servers: list[PlanServer], with_jobs: bool) -> list[dict[str, Any]]:
    return [
        {
            "serverArn": s.server_arn,
            "impactLevel": s.impact,
            **({"jobID": s.job_id} if with_jobs and s.job_id else {}),
        }
        for s in servers
    ]


def _plan_step(step: PlanStep) -> dict[str, Any]:
    configuration = (
        {"serverStepConfiguration": {"servers": _servers(step.servers, False)}}
        if step.servers is not None
        else {"waitStepConfiguration": {"waitDurationMinutes": step.wait_minutes}}
    )
    return {
        "recoveryPlanStepArn": step.arn,
        "stepOrder": step.order,
        "stepName": step.name,
        "configuration": configuration,
        "createdAt": iso(step.created_at),
        "updatedAt": iso(step.updated_at),
    }


def _execution(execution: PlanExecution) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recoveryPlanExecutionArn": execution.arn,
        "recoveryPlanArn": execution.plan_arn,
        "mode": execution.mode,
        "status": execution.status,
        "startedAt": iso(execution.started_at),
    }
    if execution.completed_at is not None:
        body["completedAt"] = iso(execution.completed_at)
    if execution.error is not None:
        body["errorDetail"] = {"code": execution.error[0], "message": execution.error[1]}
    if execution.tags:
        body["tags"] = dict(execution.tags)
    return body


def _execution_step(step: ExecutionStep) -> dict[str, Any]:
    configuration = (
        {"executionServerStepConfiguration": {"servers": _servers(step.servers, True)}}
        if step.servers is not None
        else {"waitStepConfiguration": {"waitDurationMinutes": step.wait_minutes}}
    )
    body: dict[str, Any] = {
        "recoveryPlanExecutionStepArn": step.arn,
        "stepIndex": step.index,
        "status": step.status,
        "stepName": step.name,
        "configuration": configuration,
        "attempt": step.attempt,
        "createdAt": iso(step.created_at),
        "updatedAt": iso(step.updated_at),
    }
    if step.error is not None:
        body["errorDetail"] = {"code": step.error[0], "message": step.error[1]}
    return body
