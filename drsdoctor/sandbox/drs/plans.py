"""DRS's recovery plans in the simulator: plans of ordered steps, and their executions, on the model's clock.

A step recovers servers (each CRITICAL or OPTIONAL) in one job, or waits some minutes. An execution walks
the plan's steps in order: a server step is EXECUTING while its job runs and ends COMPLETED when every
CRITICAL server launched (an OPTIONAL server's failure is the job's business, not the plan's), FAILED when a
CRITICAL one did not or the job could not start, TIMED_OUT when its job runs past STEP_TIMEOUT; a wait step is
WAITING for its minutes. A FAILED or TIMED_OUT step ends the execution FAILED; the step can be retried. One
execution of a plan at a time may be in a non-terminal status (CREATED, IN_PROGRESS, CANCELLING).

Nothing here knows HTTP or IAM: the job of a server step is started through `launch`, which the wire layer
sets (plans_wire.py) to start it as the execution's starter, with the starter's permissions. The errorDetail
codes are the simulator's own (botocore's model gives the shape, not the codes): LAUNCH_FAILED,
STEP_TIMED_OUT, STEP_FAILED, or the error StartRecovery answered (AccessDeniedException...).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from drsdoctor.sandbox.drs.entities import DrsServiceError, IdMaker, Job, page, validation_error

if TYPE_CHECKING:
    from drsdoctor.sandbox.drs.model import DrsModel

TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
ENDED_STEP = ("COMPLETED", "FAILED", "TIMED_OUT", "SKIPPED")
STEP_TIMEOUT = timedelta(minutes=60)  # a server step whose job runs longer is TIMED_OUT (the simulator's)
MAX_STEPS = 20

# (starter principal, source server ids, drill?, when) -> the job; raises DrsServiceError when refused
Launch = Callable[[str, list[str], bool, datetime], Job]


@dataclass
class PlanServer:
    server_arn: str
    impact: str = "CRITICAL"  # CRITICAL | OPTIONAL
    job_id: str | None = None  # in an execution step: the job that recovers it

    @property
    def source_server_id(self) -> str:
        return self.server_arn.rsplit("/", 1)[-1]


@dataclass
class PlanStep:
    arn: str
    name: str
    order: int
    servers: list[PlanServer] | None  # None: a wait step
    wait_minutes: int | None
    created_at: datetime
    updated_at: datetime


@dataclass
class RecoveryPlan:
    arn: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    seq: int
    tags: dict[str, str] = field(default_factory=dict)
    steps: list[PlanStep] = field(default_factory=list)
    status: str = "ACTIVE"


@dataclass
class ExecutionStep:
    arn: str
    index: int
    name: str
    servers: list[PlanServer] | None
    wait_minutes: int | None
    created_at: datetime
    updated_at: datetime
    status: str = "NOT_STARTED"
    error: tuple[str, str] | None = None  # errorDetail (code, message)
    attempt: int = 1
    began_at: datetime | None = None
    stalled: bool = False  # a wait the sandbox keeps from ending (fault wait-step-stuck)


@dataclass
class PlanExecution:
    arn: str
    plan_arn: str
    mode: str  # DRILL | RECOVERY
    starter: str  # the principal that started it: DRS launches with its permissions
    started_at: datetime
    seq: int
    steps: list[ExecutionStep]
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "CREATED"
    completed_at: datetime | None = None
    error: tuple[str, str] | None = None

    def current(self) -> ExecutionStep | None:
        return next((step for step in self.steps if step.status not in ENDED_STEP), None)


class RecoveryPlans:
    """One account-region's recovery plans and executions, beside its DrsModel (jobs, servers, clock)."""

    def __init__(self, model: DrsModel, seed: int | None = None) -> None:
        self.model = model
        self.launch: Launch | None = None
        self.stall_waits = False  # the sandbox's fault: wait steps that start never end
        self._new_id = IdMaker(seed)
        self._seq = itertools.count(1)
        self.plans: dict[str, RecoveryPlan] = {}
        self.executions: dict[str, PlanExecution] = {}

    # -- plans and their steps ----------------------------------------------------------------------------
    def create_plan(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RecoveryPlan:
        now = self.model.now()
        arn = self.model.arn("recovery-plan", self._new_id("rp-"))
        plan = RecoveryPlan(arn, name, description, now, now, next(self._seq), dict(tags or {}))
        self.plans[arn] = plan
        return plan

    def plan(self, arn: str) -> RecoveryPlan:
        plan = self.plans.get(arn)
        if plan is None:
            raise _not_found("Recovery plan", arn)
        return plan

    def create_step(
        self,
        plan_arn: str,
        name: str,
        servers: list[PlanServer] | None,
        wait_minutes: int | None,
        order: int | None = None,
    ) -> PlanStep:
        plan = self.plan(plan_arn)
        if (servers is None) == (wait_minutes is None):
            raise validation_error(
                "configuration needs exactly one of serverStepConfiguration and waitStepConfiguration",
                "configuration",
            )
        if len(plan.steps) >= MAX_STEPS:
            raise DrsServiceError(
                "ServiceQuotaExceededException",
                f"A recovery plan has at most {MAX_STEPS} steps",
                resourceType="RECOVERY_PLAN_STEP",
                serviceCode="drs",
            )
        now = self.model.now()
        step = PlanStep(f"{plan.arn}/step/{self._new_id('rps-')}", name, 0, servers, wait_minutes, now, now)
        position = len(plan.steps) if order is None else min(max(order, 1), len(plan.steps) + 1) - 1
        plan.steps.insert(position, step)
        _renumber(plan)
        plan.updated_at = now
        return step

    def step(self, step_arn: str) -> tuple[RecoveryPlan, PlanStep]:
        for plan in self.plans.values():
            for step in plan.steps:
                if step.arn == step_arn:
                    return plan, step
        raise _not_found("Recovery plan step", step_arn)

    def delete_plan(self, arn: str) -> None:
        self.plan(arn)
        if self.running(arn) is not None:
            raise _conflict(f"Recovery plan {arn} has an execution in progress", arn, "RECOVERY_PLAN")
        del self.plans[arn]

    def delete_step(self, step_arn: str) -> None:
        plan, step = self.step(step_arn)
        plan.steps.remove(step)
        _renumber(plan)

    def reorder(self, plan_arn: str, ordered: list[str]) -> list[PlanStep]:
        plan = self.plan(plan_arn)
        if sorted(ordered) != sorted(step.arn for step in plan.steps):
            raise validation_error("orderedStepArns must name every step of the plan once", "orderedStepArns")
        by_arn = {step.arn: step for step in plan.steps}
        plan.steps = [by_arn[arn] for arn in ordered]
        _renumber(plan)
        return plan.steps

    def list_plans(
        self, max_results: int | None, next_token: str | None
    ) -> tuple[list[RecoveryPlan], str | None]:
        return page(
            sorted(self.plans.values(), key=lambda p: p.seq), lambda p: p.seq, max_results, next_token
        )

    # -- executions -----------------------------------------------------------------------------------------
    def running(self, plan_arn: str) -> PlanExecution | None:
        """The plan's execution in a non-terminal status, if any (there is at most one)."""
        return next(
            (ex for ex in self.executions.values() if ex.plan_arn == plan_arn and ex.status not in TERMINAL),
            None,
        )

    def start(
        self, plan_arn: str, mode: str, starter: str, tags: dict[str, str] | None = None
    ) -> PlanExecution:
        self.advance()
        plan = self.plan(plan_arn)
        if not plan.steps:
            raise validation_error(f"Recovery plan {plan_arn} has no steps", "recoveryPlanArn")
        busy = self.running(plan_arn)
        if busy is not None:
            raise _conflict(
                f"Recovery plan {plan_arn} already has an execution in progress: {busy.arn}",
                busy.arn,
                "RECOVERY_PLAN_EXECUTION",
            )
        now = self.model.now()
        arn = self.model.arn("recovery-plan-execution", self._new_id("rpe-"))
        steps = [
            ExecutionStep(
                f"{arn}/step/{step.order}",
                step.order,
                step.name,
                [PlanServer(s.server_arn, s.impact) for s in step.servers]
                if step.servers is not None
                else None,
                step.wait_minutes,
                now,
                now,
            )
            for step in plan.steps
        ]
        execution = PlanExecution(arn, plan_arn, mode, starter, now, next(self._seq), steps, dict(tags or {}))
        self.executions[arn] = execution
        return execution

    def execution(self, arn: str) -> PlanExecution:
        self.advance()
        execution = self.executions.get(arn)
        if execution is None:
            raise _not_found("Recovery plan execution", arn)
        return execution

    def execution_step(self, step_arn: str) -> tuple[PlanExecution, ExecutionStep]:
        execution = self.execution(step_arn.split("/step/")[0])
        for step in execution.steps:
            if step.arn == step_arn:
                return execution, step
        raise _not_found("Recovery plan execution step", step_arn)

    def list_executions(
        self, plan_arn: str | None, status: str | None, max_results: int | None, next_token: str | None
    ) -> tuple[list[PlanExecution], str | None]:
        self.advance()
        found = [
            ex
            for ex in sorted(self.executions.values(), key=lambda e: e.seq, reverse=True)
            if (plan_arn is None or ex.plan_arn == plan_arn) and (status is None or ex.status == status)
        ]
        return page(found, lambda e: e.seq, max_results, next_token, newest_first=True)

    def cancel(self, arn: str) -> PlanExecution:
        execution = self.execution(arn)
        if execution.status in TERMINAL or execution.status == "CANCELLING":
            raise _conflict(
                f"Recovery plan execution {arn} is {execution.status}", arn, "RECOVERY_PLAN_EXECUTION"
            )
        execution.status = "CANCELLING"
        self.advance()
        return execution

    def retry(self, step_arn: str) -> ExecutionStep:
        execution, step = self.execution_step(step_arn)
        if step.servers is None or step.status not in ("FAILED", "TIMED_OUT"):
            raise _conflict(
                f"Only a FAILED or TIMED_OUT server step can be retried; step {step_arn} is a "
                f"{'server' if step.servers is not None else 'wait'} step, {step.status}",
                step_arn,
                "RECOVERY_PLAN_EXECUTION_STEP",
            )
        busy = self.running(execution.plan_arn)
        if busy is not None and busy is not execution:
            raise _conflict(
                f"Recovery plan {execution.plan_arn} has another execution in progress: {busy.arn}",
                busy.arn,
                "RECOVERY_PLAN_EXECUTION",
            )
        now = self.model.now()
        step.status, step.error, step.attempt, step.began_at, step.updated_at = (
            "NOT_STARTED",
            None,
            step.attempt + 1,
            None,
            now,
        )
        for server in step.servers:
            server.job_id = None
        execution.status, execution.error, execution.completed_at = "IN_PROGRESS", None, None
        self.advance()
        return step

    def update_step(self, step_arn: str, status: str | None, wait_minutes: int | None) -> ExecutionStep:
        """Skip a NOT_STARTED or FAILED step, or change a NOT_STARTED wait step's minutes."""
        _, step = self.execution_step(step_arn)
        if status is not None:
            if status != "SKIPPED" or step.status not in ("NOT_STARTED", "FAILED"):
                raise _conflict(
                    f"Step {step_arn} is {step.status}: only a NOT_STARTED or FAILED step can be SKIPPED",
                    step_arn,
                    "RECOVERY_PLAN_EXECUTION_STEP",
                )
            step.status = "SKIPPED"
        if wait_minutes is not None:
            if step.wait_minutes is None or step.status != "NOT_STARTED":
                raise _conflict(
                    f"Step {step_arn} is not a NOT_STARTED wait step",
                    step_arn,
                    "RECOVERY_PLAN_EXECUTION_STEP",
                )
            step.wait_minutes = wait_minutes
        step.updated_at = self.model.now()
        return step

    # -- the clock ------------------------------------------------------------------------------------------
    def advance(self) -> None:
        """Move every live execution as far as the clock has passed, each change at the moment it happened."""
        with self.model.lock:
            while True:
                self.model.advance()
                moved = False
                for execution in list(self.executions.values()):
                    if execution.status not in TERMINAL:
                        moved = self._move(execution) or moved
                if not moved:
                    return

    def _move(self, execution: PlanExecution) -> bool:
        """One change of `execution` that is due; False when nothing is."""
        now = self.model.now()
        if execution.status == "CREATED":
            execution.status = "IN_PROGRESS"
            return True
        step = execution.current()
        if execution.status == "CANCELLING":
            return self._cancel(execution, step, now)
        if step is None:
            ended = max((s.updated_at for s in execution.steps), default=now)
            self._end(execution, "COMPLETED", ended, None)
            return True
        if step.status == "NOT_STARTED":
            self._begin(execution, step, self._previous_end(execution, step))
            return True
        if step.status == "WAITING":
            assert step.began_at is not None and step.wait_minutes is not None
            done = step.began_at + timedelta(minutes=step.wait_minutes)
            if done <= now and not step.stalled:
                self._finish(step, "COMPLETED", done)
                return True
            return False
        return self._judge(execution, step, now)

    def _previous_end(self, execution: PlanExecution, step: ExecutionStep) -> datetime:
        before = [s.updated_at for s in execution.steps if s.index < step.index and s.status in ENDED_STEP]
        return max([execution.started_at, step.updated_at, *before])

    def _begin(self, execution: PlanExecution, step: ExecutionStep, at: datetime) -> None:
        step.began_at = step.updated_at = at
        if step.servers is None:
            step.status, step.stalled = "WAITING", self.stall_waits
            return
        step.status = "EXECUTING"
        if self.launch is None:
            raise DrsServiceError("InternalServerException", "recovery plans cannot launch: no launcher")
        ids = [server.source_server_id for server in step.servers]
        try:
            job = self.launch(execution.starter, ids, execution.mode == "DRILL", at)
        except DrsServiceError as refused:
            self._finish(step, "FAILED", at, (refused.code, refused.message))
            self._end(execution, "FAILED", at, _step_failed(step))
            return
        for server in step.servers:
            server.job_id = job.job_id

    def _judge(self, execution: PlanExecution, step: ExecutionStep, now: datetime) -> bool:
        """An EXECUTING server step: its job ended (judge the CRITICAL servers) or ran out of time."""
        assert step.servers is not None and step.began_at is not None
        job_id = step.servers[0].job_id
        job = self.model.job(job_id) if job_id else None
        deadline = step.began_at + STEP_TIMEOUT
        if job is None or job.status != "COMPLETED" or job.ended_at is None:
            if now < deadline:
                return False
            self._finish(
                step,
                "TIMED_OUT",
                deadline,
                ("STEP_TIMED_OUT", f"Job {job_id} did not end within {STEP_TIMEOUT.seconds // 60} minutes"),
            )
            self._end(execution, "FAILED", deadline, _step_failed(step))
            return True
        launched = {s.source_server_id: s.launch_status for s in job.servers}
        failed = [
            s
            for s in step.servers
            if s.impact == "CRITICAL" and launched.get(s.source_server_id) != "LAUNCHED"
        ]
        if not failed:
            self._finish(step, "COMPLETED", job.ended_at)
            return True
        named = ", ".join(
            f"{s.source_server_id} ({launched.get(s.source_server_id, 'NOT_IN_JOB')})" for s in failed
        )
        self._finish(
            step,
            "FAILED",
            job.ended_at,
            (
                "LAUNCH_FAILED",
                f"{len(failed)} CRITICAL source server(s) did not launch in job {job.job_id}: {named}",
            ),
        )
        self._end(execution, "FAILED", job.ended_at, _step_failed(step))
        return True

    def _cancel(self, execution: PlanExecution, step: ExecutionStep | None, now: datetime) -> bool:
        """A cancelled execution ends once the job of its running step ended; the rest is SKIPPED."""
        if step is not None and step.status == "EXECUTING" and step.servers:
            job = self.model.job(step.servers[0].job_id or "")
            if job is not None and job.status != "COMPLETED":
                return False
        for remaining in execution.steps:
            if remaining.status not in ENDED_STEP:
                self._finish(remaining, "SKIPPED", now)
        self._end(execution, "CANCELLED", now, None)
        return True

    @staticmethod
    def _finish(step: ExecutionStep, status: str, at: datetime, error: tuple[str, str] | None = None) -> None:
        step.status, step.updated_at, step.error = status, at, error

    @staticmethod
    def _end(execution: PlanExecution, status: str, at: datetime, error: tuple[str, str] | None) -> None:
        execution.status, execution.completed_at, execution.error = status, at, error


def _step_failed(step: ExecutionStep) -> tuple[str, str]:
    code, message = step.error or ("", "")
    return "STEP_FAILED", f"Step {step.index} ({step.name}) {step.status}: {code}: {message}"


def _renumber(plan: RecoveryPlan) -> None:
    for number, step in enumerate(plan.steps, start=1):
        step.order = number


def _not_found(what: str, arn: str) -> DrsServiceError:
    return DrsServiceError("ResourceNotFoundException", f"{what} {arn} not found", resourceId=arn)


def _conflict(message: str, resource: str, kind: str) -> DrsServiceError:
    return DrsServiceError("ConflictException", message, resourceId=resource, resourceType=kind)
