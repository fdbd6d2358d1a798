"""drs-recovery-plan's faults: what stops a DRS recovery plan, each injected the way it happens and repaired.

IAM faults edit the operator role's policy (iam:PutRolePolicy through the shared helpers); server faults
are DRS's side of the world (a source server whose replication stalled, an instance type without capacity),
set on the simulator as the reference's `server-launch-failure` is; a wait step that never ends is the
simulator's too (its repair cancels the execution left waiting, as the remedy says).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drsdoctor.sandbox.faults import Fault, remove_action, restore_policies

if TYPE_CHECKING:
    from drsdoctor.sandbox.world import Sandbox

OPERATOR = "plan-operator"  # the name map's role:plan-operator
CAPACITY = (
    "InsufficientInstanceCapacity: there is no capacity for the instance type of report-1's launch template"
)


def _server(world: Sandbox, host: str) -> str:
    return world.plans[0].server_of(host)


def _stall_db(world: Sandbox) -> None:
    world.drs.set_replication(_server(world, "db-1"), "STALLED")


def _heal_db(world: Sandbox) -> None:
    world.drs.set_replication(_server(world, "db-1"), "CONTINUOUS")


def _optional_fails(world: Sandbox) -> None:
    world.drs.set_outcome(_server(world, "report-1"), "FAILED", reason=CAPACITY)


def _optional_heals(world: Sandbox) -> None:
    world.drs.set_outcome(_server(world, "report-1"), "LAUNCHED")


def _both_fail(world: Sandbox) -> None:
    _optional_fails(world)
    world.drs.set_replication(_server(world, "app-1"), "STALLED")


def _both_heal(world: Sandbox) -> None:
    _optional_heals(world)
    world.drs.set_replication(_server(world, "app-1"), "CONTINUOUS")


def _stall_waits(world: Sandbox) -> None:
    from drsdoctor.sandbox.drs.plans_wire import plans_of

    plans_of(world.drs).stall_waits = True


def _unstall_waits(world: Sandbox) -> None:
    """Waits end again; the execution left waiting is cancelled (a stalled wait never ends by itself)."""
    from drsdoctor.sandbox.drs.plans_wire import plans_of
    from drsdoctor.sandbox.orchestrators.recoveryplan import operator_client

    plans = plans_of(world.drs)
    plans.stall_waits = False
    client = operator_client(world)
    for plan in world.plans:
        running = client.list_recovery_plan_executions(recoveryPlanArn=plan.plan_id, status="IN_PROGRESS")
        for execution in running["recoveryPlanExecutions"]:
            client.cancel_recovery_plan_execution(
                recoveryPlanExecutionArn=execution["recoveryPlanExecutionArn"]
            )


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault(
            "critical-server-stalled",
            "Replication of db-1, a CRITICAL server of step 1, is STALLED.",
            "DRS could not launch db-1, a CRITICAL server of step databases: its replication is STALLED (no "
            "point in time to launch from), so the step FAILED with LAUNCH_FAILED and the plan stopped.",
            "FAILED",
            _stall_db,
            _heal_db,
        ),
        Fault(
            "optional-server-fails",
            "report-1, an OPTIONAL server of step 1, cannot launch (no instance capacity).",
            "report-1 (OPTIONAL) did not launch: InsufficientInstanceCapacity. The plan still COMPLETED: an "
            "OPTIONAL server never stops it, but report-1 is not recovered.",
            "SUCCEEDED",
            _optional_fails,
            _optional_heals,
        ),
        Fault(
            "optional-and-critical-fail",
            "report-1 (OPTIONAL, step 1) cannot launch and app-1 (CRITICAL, step 3) is STALLED.",
            "app-1, a CRITICAL server of step applications, could not launch (replication STALLED): that "
            "stopped the plan. report-1's failure in step databases is OPTIONAL and did not.",
            "FAILED",
            _both_fail,
            _both_heal,
        ),
        Fault(
            "operator-missing-start-recovery",
            "The operator role lost drs:StartRecovery (iam:PutRolePolicy with the statement edited).",
            "The role that started the plan may not call drs:StartRecovery on its servers: DRS starts each "
            "step's job with that role's permissions, so step databases FAILED with AccessDeniedException.",
            "FAILED",
            lambda w: remove_action(w, OPERATOR, "drs:StartRecovery"),
            lambda w: restore_policies(w, OPERATOR),
        ),
        Fault(
            "operator-missing-follow-on",
            "The operator role lost drs:CreateRecoveryInstanceForDrs.",
            "The role that started the plan lacks drs:CreateRecoveryInstanceForDrs, which DRS uses with its "
            "credentials to launch: step databases' job ended with every server FAILED.",
            "FAILED",
            lambda w: remove_action(w, OPERATOR, "drs:CreateRecoveryInstanceForDrs"),
            lambda w: restore_policies(w, OPERATOR),
        ),
        Fault(
            "wait-step-stuck",
            "The plan's wait step never ends (DRS's side).",
            "Step settle, a 2-minute wait, has been WAITING far longer than its 2 minutes: the plan is stuck "
            "behind it; cancel the execution and start the plan again.",
            "STUCK",
            _stall_waits,
            _unstall_waits,
        ),
    )
}
