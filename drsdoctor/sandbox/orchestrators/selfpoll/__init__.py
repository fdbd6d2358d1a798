"""selfpoll: a second DRS wave orchestrator, unlike the reference in design, deployed into the same sandbox.

- The state machine drives the polling itself: LaunchWave -> Settle (Wait) -> Probe -> Judge (Choice) loops
  around a probe function that asks DRS (DescribeJobs); the run's state (waves, servers, job, phase)
  travels in the execution: every function returns the whole state (JSONata `Output`).
- Written in JSONata with variables (`Assign`: the probe budget, the probe count, the wave count).
- A root stack with nested stacks (tables, functions, machine, schedule), parameters passed down and read
  back with `!GetAtt Child.Outputs.X`; the state machine's `Definition` is an object.
- The run ledger is keyed by the execution's NAME (RunName) with a sort key (Entry: RUN, WAVE#01...),
  in PascalCase; the state machine writes the run's open and close itself (DynamoDB service integration).
- A mirror function, every minute, copies job status to the ledger for a UI: the recovery never waits on it.

Waves are not protection groups: a blueprint names each wave's tag, and the launcher finds the source
servers that carry it (the sandbox's seeded servers are tagged `wave=<name>`).
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drsdoctor.sandbox.seed import Plan
    from drsdoctor.sandbox.world import Sandbox

NAME = "selfpoll"
SUMMARY = ("JSONata state machine that polls DRS itself (Task/Wait/Choice loop, state in the execution); "
           "nested stacks; a scheduled mirror only for the UI")
NAME_PREFIX = "dr-waves"
ROOT_STACK = "dr-waves-recovery"
TEMPLATES = ("root.yaml", "tables.yaml", "functions.yaml", "machine.yaml", "schedule.yaml")
HANDLER_MODULES = ("launch.py", "probe.py", "mirror.py")
ARTIFACT_PREFIX = "selfpoll"
CODE_KEY = f"{ARTIFACT_PREFIX}/code.zip"
# The sandbox's pace: a probe every 30 simulated seconds, a wave given up after 2 hours of probes.
PARAMETERS = {"ProbePauseSeconds": "30", "ProbeBudget": "240"}
# Each part's role in the design -> the output of the root stack that names it.
PARTS = {"launcher": "LauncherName", "probe": "ProbeName", "mirror": "MirrorName",
         "mirror-schedule": "MirrorScheduleName", "ledger": "LedgerName", "blueprints": "BlueprintsName",
         "state-machine": "MachineArn"}
_ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


def template_text(name: str) -> str:
    return (resources.files(__package__) / name).read_text(encoding="utf-8")


def build_code_zip() -> bytes:
    """The one zip every function's Code points at, handlers at its root; same bytes every build."""
    folder = resources.files(__package__) / "handlers"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in HANDLER_MODULES:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, (folder / name).read_text(encoding="utf-8"))
    return buffer.getvalue()


def deploy(world: Sandbox, bucket: str) -> dict[str, str]:
    """Templates and code to S3, the root stack through CloudFormation; returns the root stack's outputs."""
    from drsdoctor.errors import DrsdoctorError

    s3 = world.client("s3")
    s3.create_bucket(Bucket=bucket)
    for name in TEMPLATES[1:]:
        s3.put_object(Bucket=bucket, Key=f"{ARTIFACT_PREFIX}/{name}", Body=template_text(name).encode())
    s3.put_object(Bucket=bucket, Key=CODE_KEY, Body=build_code_zip())
    parameters = {**PARAMETERS, "Stage": world.environment, "NamePrefix": NAME_PREFIX,
                  "ArtifactBucket": bucket, "ArtifactPrefix": ARTIFACT_PREFIX, "CodeKey": CODE_KEY}
    cloudformation = world.client("cloudformation")
    cloudformation.create_stack(
        StackName=ROOT_STACK, TemplateBody=template_text("root.yaml"), Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    stack = cloudformation.describe_stacks(StackName=ROOT_STACK)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise DrsdoctorError(f"the {NAME} stack did not deploy in the sandbox: {stack['StackStatus']} "
                             f"{stack.get('StackStatusReason', '')}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def seed(world: Sandbox, outputs: dict[str, str]) -> list[Plan]:
    """The sandbox's plan as selfpoll holds it: servers tagged with their wave, a blueprint of wave tags."""
    from drsdoctor.sandbox.seed import Plan, Wave, plan_layout

    plan_id, plan_name, layout = plan_layout(None)
    plan = Plan(plan_id, plan_name)
    for number, (name, group_id, hostnames) in enumerate(layout, start=1):
        ids = [world.drs.add_source_server(host, tags={"wave": name, "Name": host}).source_server_id
               for host in hostnames]
        plan.waves.append(Wave(number, name, group_id, ids, list(hostnames)))
    waves = [{"Name": wave.name, "TagKey": "wave", "TagValue": wave.name} for wave in plan.waves]
    blueprint = {"BlueprintId": plan_id, "Title": plan_name, "Waves": waves}
    world.resource("dynamodb").Table(outputs["BlueprintsName"]).put_item(Item=blueprint)
    return [plan]


def start_input(plan_id: str) -> str:
    """The execution input that runs a blueprint."""
    return json.dumps({"Blueprint": plan_id})


def run_name(execution_arn: str) -> str:
    """The ledger's key for an execution: its name, the ARN's last part."""
    return execution_arn.rsplit(":", 1)[-1]


def record(world: Sandbox, outputs: dict[str, str], execution_arn: str) -> dict[str, Any] | None:
    """The run's ledger items as one record: the RUN item's attributes, its waves (WAVE# items) in order."""
    from boto3.dynamodb.types import TypeDeserializer

    items = world.client("dynamodb").query(
        TableName=outputs["LedgerName"], ConsistentRead=True, KeyConditionExpression="RunName = :run",
        ExpressionAttributeValues={":run": {"S": run_name(execution_arn)}}).get("Items", [])
    plain = [{key: TypeDeserializer().deserialize(value) for key, value in item.items()} for item in items]
    run = next((item for item in plain if item["Entry"] == "RUN"), None)
    if run is None:
        return None
    return {**run, "Waves": sorted((item for item in plain if item["Entry"] != "RUN"),
                                   key=lambda item: str(item["Entry"]))}


def statuses(record_item: dict[str, Any] | None) -> dict[str, Any]:
    """The record in the world's terms: run status, current wave, each wave's mirrored status."""
    if not record_item:
        return {}
    return {"status": record_item.get("RunStatus"), "currentWave": record_item.get("CurrentWave"),
            "waves": [{"status": wave.get("WaveState")} for wave in record_item.get("Waves", [])]}
