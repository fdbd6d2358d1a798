"""What the sandbox needs to know of an orchestrator to deploy it, run it and break it: one `Orchestrator`.

The world (drsdoctor.sandbox.world) knows no orchestrator's names: it uploads `artifacts()` to S3, deploys
`template()` as the stack `stack_name`, asks `names(world)` for the name map, `seed(world, size)` for the
plans, and runs recoveries with `start_input(world, plan_id)`; `progress` and `record` say how a run is
going. Faults (drsdoctor.sandbox.faults) find what they break through the name map, never by literal names.
Nested stacks: put each child template in `artifacts()` and point TemplateURL at
`https://BUCKET.s3.amazonaws.com/KEY` (world.template_url(KEY)); the sandbox's CloudFormation reads it from
its S3 and resolves `!GetAtt Child.Outputs.X` (drsdoctor.sandbox.cfnpatch).

The name map's keys are the reference's vocabulary; an orchestrator maps those it has to its own names
(a fault that needs a key the map lacks does not apply to it):

    stack                          the root stack's name
    state-machine                  the recovery state machine's name
    function:ROLE                  ROLE: orchestration, execution-finder, execution-poller (or the
                                   orchestrator's own roles, e.g. function:status)
    role:ROLE                      the IAM role of function ROLE (role:state-machine: the machine's)
    table:KIND                     KIND: protection-groups, recovery-plans, execution-history;
                                   table:execution-history@archive: another environment's history table
    index:status                   the execution-history table's status index
    rule:execution-finder          the schedule rule that drives the finder
    env:VARIABLE                   the name a function reads VARIABLE under (env:EXECUTION_TABLE ...)
    state:STATE                    the definition's name for STATE (state:CheckWaveStatus ...)
    bucket                         the S3 bucket holding the code (and nested templates)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drsdoctor.errors import InputError

if TYPE_CHECKING:
    from drsdoctor.sandbox.faults import Fault
    from drsdoctor.sandbox.seed import Plan, PlanSize
    from drsdoctor.sandbox.world import Sandbox


class Names(dict[str, str]):
    """The name map: the reference's vocabulary -> this orchestrator's names (see the module docstring)."""

    def __missing__(self, key: str) -> str:
        raise KeyError(f"this orchestrator has no {key!r} in its name map")


@dataclass(frozen=True)
class Orchestrator:
    """An orchestrator the sandbox can deploy; see the module docstring for how the world uses each part."""

    name: str
    summary: str
    stack_name: str
    bucket: str
    template: Callable[[], str]  # the root stack's template (YAML or JSON text)
    artifacts: Callable[[], Mapping[str, bytes]]  # S3 key -> bytes, uploaded to `bucket` before the deploy
    parameters: Mapping[str, str]  # the root stack's parameters
    names: Callable[[Sandbox], Names]  # after the deploy: may read the stacks' outputs
    seed: Callable[[Sandbox, PlanSize | None], list[Plan]]  # source servers in DRS, plans where it reads them
    start_input: Callable[[Sandbox, str], dict[str, Any]]  # plan id -> the execution input
    # How a run is going: {"status": ..., "currentWave": ..., "waves": [{"status": ...}, ...]}, or {} while
    # nothing says the run has begun (a run that has begun and stops moving is STUCK).
    progress: Callable[[Sandbox, str], dict[str, Any]]
    record: Callable[[Sandbox, str], dict[str, Any] | None]  # what the orchestrator keeps about a run
    faults: Mapping[str, Fault] = field(default_factory=dict)
    # An orchestrator that is not a state machine (DRS's own recovery plans): how a run starts (plan id -> the
    # ARN diagnose takes) and how it is going (SUCCEEDED, FAILED, ABORTED or RUNNING); None: Step Functions.
    start: Callable[[Sandbox, str], str] | None = None
    status: Callable[[Sandbox, str], str] | None = None

    def fault(self, name: str) -> Fault:
        """The fault of that name in this orchestrator's catalogue; a bad name is the user's input error."""
        fault = self.faults.get(name)
        if fault is None:
            listing = "`drsdoctor demo --list-faults" + (
                "`" if self.name == "reference" else f" --orchestrator {self.name}`")
            raise InputError(f"no fault named {name!r} for the {self.name} orchestrator; {listing} lists "
                             "them: " + ", ".join(self.faults))
        return fault

    def catalogue(self) -> list[str]:
        """One line a fault, for `demo --list-faults`."""
        if not self.faults:
            return []
        width = max(len(name) for name in self.faults)
        return [f"{fault.name:<{width}}  {fault.summary}" for fault in self.faults.values()]
