"""The renaming harness: the reference deployed with every name drawn from a seed runs, breaks and mends as
the reference does, and its deployment names none of the reference's parts.

One world a seed (module-scoped); faults are switched in it (repair, then inject) through the name map.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor.sandbox import faults
from drsdoctor.sandbox.orchestrators import get as get_orchestrator
from drsdoctor.sandbox.orchestrators.reference import ENVIRONMENT_VARIABLES, STATES, reference_names
from drsdoctor.sandbox.orchestrators.renamed import renaming
from drsdoctor.sandbox.orchestrators.renaming import Renaming
from drsdoctor.sandbox.seed import PlanSize
from drsdoctor.sandbox.world import Sandbox

pytestmark = pytest.mark.slow

SEED = 7
# Words of the reference's names no renamed deployment may hold (its code's prose aside).
REFERENCE_WORDS = ("drs-orchestrator", "orchestration", "execution-finder", "execution-poller",
                   "execution_finder", "execution_poller", "drs_calls", "protection-groups", "recovery-plans",
                   "execution-history", "StatusIndex", "ExecutionHistoryTable", "ExecutionPollerFunction",
                   "EnvironmentName", *ENVIRONMENT_VARIABLES, *STATES)


@pytest.fixture(scope="module")
def world() -> Iterator[Sandbox]:
    # two waves of two servers: NextWave runs, and app-2 (server-launch-failure's server) is in the plan
    with Sandbox.start(orchestrator=f"renamed:{SEED}", plan=PlanSize(2, 2)) as running:
        yield running


def deployment_text(world: Sandbox) -> str:
    """Everything the deployment shows an operator's tools, through the APIs, as one text."""
    cloudformation, lambda_, iam = world.client("cloudformation"), world.client("lambda"), world.client("iam")
    parts: list[Any] = [cloudformation.get_template(StackName=world.stack_name)["TemplateBody"],
                        cloudformation.describe_stacks(StackName=world.stack_name)["Stacks"],
                        cloudformation.describe_stack_resources(StackName=world.stack_name)["StackResources"],
                        world.client("stepfunctions").describe_state_machine(
                            stateMachineArn=world.state_machine_arn)["definition"],
                        world.client("events").list_rules()["Rules"],
                        world.client("dynamodb").list_tables()["TableNames"]]
    for function in lambda_.list_functions()["Functions"]:
        parts.append(function)
        parts += [world.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
                  for rule in world.client("events").list_rules()["Rules"]]
    for role in iam.list_roles()["Roles"]:
        parts.append(role["RoleName"])
        for policy in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            parts += [policy, iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)]
    for table in world.client("dynamodb").list_tables()["TableNames"]:
        parts.append(world.client("dynamodb").describe_table(TableName=table)["Table"])
    return json.dumps(parts, default=str)


def test_the_deployment_names_none_of_the_references_parts(world: Sandbox) -> None:
    text = deployment_text(world)
    assert [word for word in REFERENCE_WORDS if word in text] == []
    # ...and it is a whole orchestrator: the renamed parts are all there
    for key in ("function:execution-poller", "table:execution-history", "rule:execution-finder",
                "index:status", "env:EXECUTION_TABLE", "state:CheckWaveStatus"):
        assert world.names[key] in text, key


def test_the_code_reads_the_renamed_variables_from_renamed_modules(world: Sandbox) -> None:
    s3 = world.client("s3")
    [code] = s3.list_objects_v2(Bucket=world.names["bucket"])["Contents"]
    body = s3.get_object(Bucket=world.names["bucket"], Key=code["Key"])["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        sources = {name: archive.read(name).decode() for name in archive.namelist()}
    code_words = ("drs-orchestrator", "execution_finder", "execution_poller", "drs_calls",
                  "execution-finder", "execution-poller", *(f'"{name}"' for name in ENVIRONMENT_VARIABLES))
    assert [word for word in code_words if any(word in source for source in sources.values())] == []
    assert any(f'"{world.names["env:EXECUTION_TABLE"]}"' in source for source in sources.values())
    lambda_ = world.client("lambda")
    handlers = {lambda_.get_function_configuration(FunctionName=world.function_name(role))["Handler"]
                .split(".")[0] + ".py" for role in ("orchestration", "execution-finder", "execution-poller")}
    assert handlers <= set(sources)


def test_a_renamed_world_runs_a_healthy_recovery_to_the_end(world: Sandbox) -> None:
    outcome = world.run_until_settled(world.start_recovery())
    assert outcome.status == "SUCCEEDED", outcome
    assert outcome.wave_statuses == ["COMPLETED", "COMPLETED"]
    entered = {event["stateEnteredEventDetails"]["name"] for event in world.client("stepfunctions")
               .get_execution_history(executionArn=outcome.execution_arn, maxResults=1000)["events"]
               if "stateEnteredEventDetails" in event}
    assert world.names["state:CheckWaveStatus"] in entered and not entered & set(STATES)
    # the finder's schedule drove the poller, under their renamed names
    logs = world.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{world.function_name('execution-poller')}")["events"]
    assert any(event["message"].startswith("START") for event in logs)


def fingerprint(world: Sandbox) -> dict[str, Any]:
    """What a fault of the catalogue may change, read through the APIs by the renamed names."""
    iam, lambda_ = world.client("iam"), world.client("lambda")
    policies = {}
    for role in ("orchestration", "execution-poller"):
        name = world.names[f"role:{role}"]
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            policies[f"{name}/{policy}"] = iam.get_role_policy(RoleName=name, PolicyName=policy)[
                "PolicyDocument"]
    try:
        finder = json.loads(lambda_.get_policy(FunctionName=world.function_name("execution-finder"))[
            "Policy"])
    except lambda_.exceptions.ResourceNotFoundException:
        finder = {"Statement": []}
    return {"policies": policies, "finder-permissions": len(finder["Statement"]),
            "rule": world.client("events").describe_rule(Name=world.finder_rule_name)["State"],
            "poller-environment": lambda_.get_function_configuration(
                FunctionName=world.function_name("execution-poller"))["Environment"]["Variables"],
            "definition": world.client("stepfunctions").describe_state_machine(
                stateMachineArn=world.state_machine_arn)["definition"],
            "outcomes": sorted(world.drs.source_server(server_id).outcome
                               for server_id in world.plans[0].source_server_ids)}


def test_every_reference_fault_is_injected_into_the_renamed_world_and_repaired(world: Sandbox) -> None:
    assert set(world.orchestrator.faults) == set(faults.FAULTS)
    healthy = fingerprint(world)
    for fault in faults.FAULTS:
        assert world.switch_fault(fault) == fault
        assert fingerprint(world) != healthy, fault
    assert world.switch_fault("none") is None
    assert fingerprint(world) == healthy


def test_a_fault_breaks_the_renamed_world_as_it_breaks_the_reference(world: Sandbox) -> None:
    # the healthy run proved the renamed code reads its renamed variables and tables; this one that a fault
    # found through the name map (the renamed orchestration role's policy) breaks the run
    world.switch_fault("orchestrator-missing-follow-on")
    try:
        outcome = world.run_until_settled(world.start_recovery())
    finally:
        world.switch_fault("none")
    assert (outcome.status, outcome.wave_statuses[0]) == ("FAILED", "FAILED"), outcome


def test_a_fault_names_the_renamed_parts() -> None:
    renamed, reference = get_orchestrator(f"renamed:{SEED}"), reference_names()
    drift = renamed.fault("statemachine-choice-drift").root_cause
    assert renaming(SEED).names()["state:CheckWaveStatus"] in drift
    texts = " ".join(fault.summary + fault.root_cause for fault in renamed.faults.values())
    assert not [name for name in reference.values() if len(name) > 8 and name in texts]


def test_seeds_draw_different_names_and_a_seed_always_the_same() -> None:
    one, again, other = Renaming(1), Renaming(1), Renaming(2)
    assert one.names() == again.names() and one.template() == again.template()
    assert one.code_zip() == again.code_zip()
    assert set(one.names().values()).isdisjoint(other.names().values())
