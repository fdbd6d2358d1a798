"""drsdoctor's own reference orchestrator (drsdoctor/reference/), as the sandbox deploys it.

`reference_like(...)` builds the Orchestrator of any deployment of the reference's design (same records,
same plans, same faults) from its name map, template and code: the renamed orchestrator uses it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from drsdoctor.sandbox.orchestrators.base import Names, Orchestrator

if TYPE_CHECKING:
    from drsdoctor.sandbox.faults import Fault
    from drsdoctor.sandbox.seed import Plan, PlanSize
    from drsdoctor.sandbox.world import Sandbox

ACCOUNT_ID = "123456789012"
ENVIRONMENT = "sandbox"
STACK_NAME = f"drs-orchestrator-{ENVIRONMENT}"
CODE_BUCKET = f"drs-orchestrator-code-{ACCOUNT_ID}"
CODE_KEY = "drs-orchestrator/functions.zip"
PARAMETERS = {"EnvironmentName": ENVIRONMENT, "PollIntervalSeconds": "30", "MaxPollIntervalSeconds": "60",
              "WaveTimeoutMinutes": "120", "CodeBucket": CODE_BUCKET, "CodeKey": CODE_KEY}
FUNCTIONS = ("orchestration", "execution-finder", "execution-poller")
ENVIRONMENT_VARIABLES = ("ENVIRONMENT", "EXECUTION_TABLE", "PLANS_TABLE", "GROUPS_TABLE", "DRS_REGION",
                         "POLL_INTERVAL_SECONDS", "MAX_POLL_INTERVAL_SECONDS", "WAVE_TIMEOUT_MINUTES",
                         "STATUS_INDEX", "POLLER_FUNCTION")
STATES = ("BeginPlan", "StartWave", "WaitForWave", "ReadWaveStatus", "CheckWaveStatus", "NextWave",
          "CompletePlan", "PlanSucceeded", "MarkWaveFailed", "WaveFailed", "MarkWaveTimedOut", "WaveTimedOut",
          "MarkPlanFailed", "PlanFailed")
# The record's key attribute: the execution ARN.
RECORD_KEY = "executionId"


def reference_names(environment: str = ENVIRONMENT, archive: str = "archive") -> Names:
    """The reference's name map for a deployment with EnvironmentName `environment`."""
    prefix = f"drs-orchestrator-{environment}"
    names = Names({"stack": STACK_NAME, "state-machine": f"{prefix}-recovery", "bucket": CODE_BUCKET,
                   "index:status": "StatusIndex",
                   "rule:execution-finder": f"{prefix}-execution-finder-schedule"})
    for function in FUNCTIONS:
        names[f"function:{function}"] = f"{prefix}-{function}"
        names[f"role:{function}"] = f"{prefix}-{function}-role"
    names["role:state-machine"] = f"{prefix}-state-machine-role"
    for table in ("protection-groups", "recovery-plans", "execution-history"):
        names[f"table:{table}"] = f"{prefix}-{table}"
    names["table:execution-history@archive"] = f"drs-orchestrator-{archive}-execution-history"
    names.update({f"env:{variable}": variable for variable in ENVIRONMENT_VARIABLES})
    names.update({f"state:{state}": state for state in STATES})
    return names


def seed_reference_records(world: Sandbox, size: PlanSize | None) -> list[Plan]:
    from drsdoctor.sandbox.seed import seed

    return seed(world.drs, world.resource("dynamodb"), world.names["table:protection-groups"],
                world.names["table:recovery-plans"], size=size)


def plan_input(_world: Sandbox, plan_id: str) -> dict[str, Any]:
    return {"planId": plan_id}


def execution_record(world: Sandbox, execution_arn: str) -> dict[str, Any] | None:
    """The execution-history item the functions keep for this execution."""
    from boto3.dynamodb.types import TypeDeserializer

    # the shared client, not a new resource each time: a new session costs ~1 s while the world is busy
    item = world.client("dynamodb").get_item(TableName=world.names["table:execution-history"],
                                             Key={RECORD_KEY: {"S": execution_arn}},
                                             ConsistentRead=True).get("Item")
    return {key: TypeDeserializer().deserialize(value) for key, value in item.items()} if item else None


def record_progress(world: Sandbox, execution_arn: str) -> dict[str, Any]:
    """The record's statuses, read from moto's table in this process: through the API, moto serializes
    the whole item (2,000 server ids in a 10x200 plan: a second a read), several times a second."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[world.account_id][world.region]
        item = backend.get_item(world.names["table:execution-history"], {RECORD_KEY: {"S": execution_arn}})
        if item is None:
            return {}
        attrs = item.attrs
        waves = [{"status": wave.value["status"].value} for wave in attrs["waves"].value]
        return {"status": attrs["status"].value, "currentWave": attrs["currentWave"].value, "waves": waves}
    except (ImportError, KeyError, AttributeError, TypeError):  # moto's internals moved: ask its API
        return execution_record(world, execution_arn) or {}


def reference_like(name: str, summary: str, *, stack_name: str, bucket: str, template: Callable[[], str],
                   artifacts: Callable[[], Mapping[str, bytes]], parameters: Mapping[str, str], names: Names,
                   faults: Mapping[str, Fault]) -> Orchestrator:
    """An orchestrator of the reference's design (records, plans, inputs), whatever its names."""
    return Orchestrator(name=name, summary=summary, stack_name=stack_name, bucket=bucket, template=template,
                        artifacts=artifacts, parameters=parameters, names=lambda _world: Names(names),
                        seed=seed_reference_records, start_input=plan_input, progress=record_progress,
                        record=execution_record, faults=faults)


def _template() -> str:
    from drsdoctor.reference import template_text

    return template_text()


def _artifacts() -> dict[str, bytes]:
    from drsdoctor.reference import build_code_zip

    return {CODE_KEY: build_code_zip()}


def orchestrator() -> Orchestrator:
    from drsdoctor.sandbox.faults import FAULTS

    return reference_like(
        "reference", "drsdoctor's reference: a JSONPath state machine, a scheduled finder invokes a poller "
        "that writes each wave's status to DynamoDB", stack_name=STACK_NAME, bucket=CODE_BUCKET,
        template=_template, artifacts=_artifacts, parameters=PARAMETERS, names=reference_names(),
        faults=FAULTS)
