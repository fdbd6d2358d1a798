"""The facts of one DRS recovery plan execution (DRS's own orchestration): the Snapshot's `recovery_plan`.

Plain data, as the rest of the Snapshot: the execution and its steps as GetRecoveryPlanExecution and
ListRecoveryPlanExecutionSteps answer them (statuses and errorDetail as DRS names them), the plan's other
executions, and who started it when that can be told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

NON_TERMINAL = ("CREATED", "IN_PROGRESS", "CANCELLING")
STEP_ENDED = ("COMPLETED", "FAILED", "TIMED_OUT", "SKIPPED")


@dataclass
class PlanStepServer:
    server_arn: str
    impact: str = "CRITICAL"  # CRITICAL | OPTIONAL (DRS's default when unset is CRITICAL)
    job_id: str | None = None

    @property
    def source_server_id(self) -> str:
        return self.server_arn.rsplit("/", 1)[-1]


@dataclass
class PlanExecutionStep:
    arn: str
    index: int
    name: str
    status: str  # NOT_STARTED | EXECUTING | WAITING | COMPLETED | FAILED | TIMED_OUT | SKIPPED
    servers: list[PlanStepServer] = field(default_factory=list)
    wait_minutes: int | None = None  # set: a wait step
    error_code: str = ""
    error_message: str = ""
    attempt: int | None = None
    updated_at: datetime | None = None  # when its status last changed (GetRecoveryPlanExecutionStep)

    @property
    def is_wait(self) -> bool:
        return self.wait_minutes is not None

    def job_ids(self) -> list[str]:
        return list(dict.fromkeys(server.job_id for server in self.servers if server.job_id))


@dataclass
class PlanExecutionSummary:
    arn: str
    status: str
    mode: str = ""
    started_at: datetime | None = None


@dataclass
class RecoveryPlanRun:
    """The recovery plan execution diagnosed."""

    arn: str
    plan_arn: str
    status: str  # CREATED | IN_PROGRESS | COMPLETED | FAILED | CANCELLING | CANCELLED
    mode: str = ""
    started_at: datetime | None = None
    completed_at: datetime | None = None
    error_code: str = ""
    error_message: str = ""
    plan_name: str = ""
    steps: list[PlanExecutionStep] = field(default_factory=list)
    starter_role: str = ""  # the role whose permissions DRS launches with, when known
    starter_from: str = ""  # how it is known: --plan-role, or the errorDetail that names it

    @property
    def running(self) -> bool:
        return self.status in NON_TERMINAL

    def step_of_job(self, job_id: str) -> PlanExecutionStep | None:
        return next((step for step in self.steps if job_id in step.job_ids()), None)

    def impact_of(self, source_server_id: str) -> str:
        for step in self.steps:
            for server in step.servers:
                if server.source_server_id == source_server_id:
                    return server.impact
        return ""
