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
import zipfile
from importlib import resources
from typing import TYPE_CHECKING, Any

from drsdoctor.sandbox.orchestrators.base import Names, Orchestrator

if TYPE_CHECKING:
    from drsdoctor.sandbox.seed import Plan, PlanSize
    from drsdoctor.sandbox.world import Sandbox

NAME = "selfpoll"
SUMMARY = ("a JSONata state machine that polls DRS itself (Task, Wait, Choice; the wave state travels in the "
           "execution), nested stacks, a run ledger keyed by execution name, a mirror only for the UI")
NAME_PREFIX = "dr-waves"
STAGE = "sandbox"
STACK_NAME = f"{NAME_PREFIX}-{STAGE}"
BUCKET = f"{NAME_PREFIX}-artifacts-123456789012"
NESTED_TEMPLATES = ("tables.yaml", "functions.yaml", "machine.yaml", "schedule.yaml")
HANDLER_MODULES = ("launch.py", "probe.py", "mirror.py")
ARTIFACT_PREFIX = "selfpoll"
CODE_KEY = f"{ARTIFACT_PREFIX}/code.zip"
# The sandbox's pace: a probe every 30 simulated seconds, a wave given up after 2 hours of probes.
PARAMETERS = {"Stage": STAGE, "NamePrefix": NAME_PREFIX, "ArtifactBucket": BUCKET,
              "ArtifactPrefix": ARTIFACT_PREFIX, "CodeKey": CODE_KEY,
              "ProbePauseSeconds": "30", "ProbeBudget": "240"}
_ZIP_TIMESTAMP = (2024, 1, 1, 0, 0, 0)


def template_text(name: str = "root.yaml") -> str:
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


def artifacts() -> dict[str, bytes]:
    """What the root stack reads from its bucket: the nested templates and the code zip."""
    found = {f"{ARTIFACT_PREFIX}/{name}": template_text(name).encode() for name in NESTED_TEMPLATES}
    return {**found, CODE_KEY: build_code_zip()}


def names(world: Sandbox) -> Names:
    """The name map (base.py's vocabulary where selfpoll has the part), from the root stack's outputs."""
    out = world.outputs
    found = Names({"stack": STACK_NAME, "bucket": BUCKET, "state-machine": out["MachineName"],
                   "table:execution-history": out["LedgerName"],
                   "table:recovery-plans": out["BlueprintsName"], "rule:mirror": out["MirrorScheduleName"],
                   "env:EXECUTION_TABLE": "RUN_LEDGER", "env:PLANS_TABLE": "BLUEPRINT_STORE",
                   "env:DRS_REGION": "RECOVERY_ZONE",
                   "state:StartWave": "LaunchWave", "state:WaitForWave": "Settle",
                   "state:ReadWaveStatus": "Probe", "state:CheckWaveStatus": "Judge",
                   "state:NextWave": "NextWave"})
    for part, output in (("launcher", "LauncherName"), ("probe", "ProbeName"), ("mirror", "MirrorName")):
        found[f"function:{part}"] = out[output]
        found[f"role:{part}"] = f"{NAME_PREFIX}-{STAGE}-{part}"
    found["role:state-machine"] = f"{NAME_PREFIX}-{STAGE}-machine"
    return found


def seed(world: Sandbox, size: PlanSize | None) -> list[Plan]:
    """The plan as selfpoll holds it: servers tagged with their wave, a blueprint naming each wave's tag."""
    from drsdoctor.sandbox.seed import Plan, Wave, plan_layout

    plan_id, plan_name, layout = plan_layout(size)
    plan = Plan(plan_id, plan_name)
    for number, (name, group_id, hostnames) in enumerate(layout, start=1):
        ids = [world.drs.add_source_server(host, tags={"wave": name, "Name": host}).source_server_id
               for host in hostnames]
        plan.waves.append(Wave(number, name, group_id, ids, list(hostnames)))
    waves = [{"Name": wave.name, "TagKey": "wave", "TagValue": wave.name} for wave in plan.waves]
    blueprint = {"BlueprintId": plan_id, "Title": plan_name, "Waves": waves}
    world.resource("dynamodb").Table(world.names["table:recovery-plans"]).put_item(Item=blueprint)
    return [plan]


def start_input(_world: Sandbox, plan_id: str) -> dict[str, Any]:
    """The execution input that runs a blueprint."""
    return {"Blueprint": plan_id}


def run_name(execution_arn: str) -> str:
    """The ledger's key for an execution: its name, the ARN's last part."""
    return execution_arn.rsplit(":", 1)[-1]


def record(world: Sandbox, execution_arn: str) -> dict[str, Any] | None:
    """The run's ledger items as one record: the RUN item's attributes, its waves (WAVE# items) in order."""
    from boto3.dynamodb.types import TypeDeserializer

    items = world.client("dynamodb").query(
        TableName=world.names["table:execution-history"], ConsistentRead=True,
        KeyConditionExpression="RunName = :run",
        ExpressionAttributeValues={":run": {"S": run_name(execution_arn)}}).get("Items", [])
    plain = [{key: TypeDeserializer().deserialize(value) for key, value in item.items()} for item in items]
    run = next((item for item in plain if item["Entry"] == "RUN"), None)
    if run is None:
        return None
    waves = sorted((item for item in plain if item["Entry"] != "RUN"), key=lambda item: str(item["Entry"]))
    return {**run, "Waves": waves}


def progress(world: Sandbox, execution_arn: str) -> dict[str, Any]:
    """The ledger in the world's terms: run status, current wave, each wave's status as last mirrored."""
    run = record(world, execution_arn)
    if not run:
        return {}
    return {"status": run.get("RunStatus"), "currentWave": run.get("CurrentWave"),
            "waves": [{"status": wave.get("WaveState")} for wave in run.get("Waves", [])]}


def orchestrator() -> Orchestrator:
    from drsdoctor.sandbox.orchestrators.selfpoll.faults import FAULTS

    return Orchestrator(name=NAME, summary=SUMMARY, stack_name=STACK_NAME, bucket=BUCKET,
                        template=template_text, artifacts=artifacts, parameters=PARAMETERS, names=names,
                        seed=seed, start_input=start_input, progress=progress, record=record, faults=FAULTS)
