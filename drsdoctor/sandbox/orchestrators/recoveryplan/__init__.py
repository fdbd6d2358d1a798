"""`drs-recovery-plan`: DRS orchestrating the waves itself, with a recovery plan (no state machine at all).

What is deployed: one CloudFormation stack holding the role an operator assumes to run the plan (DRS starts
each step's job with the permissions of whoever started the execution, follow-on actions included). What is
seeded: six source servers and the plan `three-tier`: step 1 `databases` (db-1 CRITICAL, report-1 OPTIONAL),
step 2 a 2-minute wait, step 3 `applications` (app-1, app-2 CRITICAL), step 4 `web` (web-1, web-2 CRITICAL). A
recovery is StartRecoveryPlanExecution (DRILL) as the operator role; its ARN is what diagnose takes.
The catalogue is faults.py's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from drsdoctor.sandbox.orchestrators.base import Names, Orchestrator

if TYPE_CHECKING:
    from drsdoctor.sandbox.seed import Plan, PlanSize
    from drsdoctor.sandbox.world import Sandbox

STACK_NAME = "drs-recovery-plan-sandbox"
BUCKET = "drs-recovery-plan-sandbox-123456789012"
OPERATOR_ROLE = "drs-recovery-plan-operator"
PLAN_NAME = "three-tier"
WAIT_MINUTES = 2
# (step name, [(hostname, impact)]) or (step name, minutes to wait)
STEPS: tuple[tuple[str, Any], ...] = (
    ("databases", [("db-1", "CRITICAL"), ("report-1", "OPTIONAL")]),
    ("settle", WAIT_MINUTES),
    ("applications", [("app-1", "CRITICAL"), ("app-2", "CRITICAL")]),
    ("web", [("web-1", "CRITICAL"), ("web-2", "CRITICAL")]),
)
# the execution's status in the world's words (world.FINISHED)
_OUTCOME = {"COMPLETED": "SUCCEEDED", "FAILED": "FAILED", "CANCELLED": "ABORTED"}


def template() -> str:
    """The operator role: what running a plan needs, StartRecovery's follow-on actions included."""
    from drsdoctor.iam.drs_needs import follow_on_actions

    partition, account = "${AWS::Partition}", "${AWS::AccountId}"
    follow_on = [action for action in follow_on_actions() if not action.startswith("drs:")]
    statements = [
        {
            "Sid": "RunRecoveryPlans",
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "drs:StartRecoveryPlanExecution",
                "drs:GetRecoveryPlan",
                "drs:ListRecoveryPlanSteps",
                "drs:ListRecoveryPlans",
                "drs:GetRecoveryPlanExecution",
                "drs:ListRecoveryPlanExecutions",
                "drs:ListRecoveryPlanExecutionSteps",
                "drs:GetRecoveryPlanExecutionStep",
                "drs:RetryRecoveryPlanExecutionStep",
                "drs:CancelRecoveryPlanExecution",
                "drs:DescribeJobs",
                "drs:DescribeJobLogItems",
                "drs:DescribeSourceServers",
            ],
        },
        {
            "Sid": "LaunchSteps",
            "Effect": "Allow",
            "Action": ["drs:StartRecovery", "drs:CreateRecoveryInstanceForDrs", "drs:ListTagsForResource"],
            "Resource": {"Fn::Sub": f"arn:{partition}:drs:${{AWS::Region}}:{account}:source-server/*"},
        },
        {
            "Sid": "LaunchRecoveryInstancesAsTheCaller",
            "Effect": "Allow",
            "Action": follow_on,
            "Resource": "*",
        },
        {
            "Sid": "PassRecoveryInstanceRoleToEc2",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {
                "Fn::Sub": f"arn:{partition}:iam::{account}:role/service-role/"
                "AWSElasticDisasterRecoveryRecoveryInstanceRole"
            },
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        },
    ]
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": OPERATOR_ROLE,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::Sub": f"arn:{partition}:iam::{account}:root"}},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "run-recovery-plans",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "The role that runs the DRS recovery plans of this account",
            "Resources": {"OperatorRole": role},
            "Outputs": {"OperatorRoleArn": {"Value": {"Fn::GetAtt": ["OperatorRole", "Arn"]}}},
        },
        indent=1,
    )


def names(_world: Sandbox) -> Names:
    return Names({"stack": STACK_NAME, "bucket": BUCKET, "role:plan-operator": OPERATOR_ROLE})


def seed(world: Sandbox, _size: PlanSize | None) -> list[Plan]:
    """The servers in DRS and the plan, created through DRS's API as an administrator would."""
    from drsdoctor.sandbox.seed import Plan, Wave

    drs = world.client("drs")
    plan_arn = drs.create_recovery_plan(name=PLAN_NAME, description="databases, then apps, then web")[
        "recoveryPlan"
    ]["recoveryPlanArn"]
    waves = []
    for number, (step, content) in enumerate(STEPS, start=1):
        if isinstance(content, int):
            configuration: dict[str, Any] = {"waitStepConfiguration": {"waitDurationMinutes": content}}
            waves.append(Wave(number, step, "", [], []))
        else:
            servers = [
                world.drs.add_source_server(host, tags={"plan": PLAN_NAME, "step": step})
                for host, _ in content
            ]
            configuration = {
                "serverStepConfiguration": {
                    "servers": [
                        {"serverArn": server.arn, "impactLevel": impact}
                        for server, (_, impact) in zip(servers, content, strict=True)
                    ]
                }
            }
            waves.append(
                Wave(number, step, "", [s.source_server_id for s in servers], [h for h, _ in content])
            )
        drs.create_recovery_plan_step(recoveryPlanArn=plan_arn, stepName=step, configuration=configuration)
    return [Plan(plan_arn, PLAN_NAME, waves)]


def operator_client(world: Sandbox) -> Any:
    """A DRS client as the operator role (a session of sts:AssumeRole), the plan's starter."""
    import boto3

    role_arn = f"arn:aws:iam::{world.account_id}:role/{world.names['role:plan-operator']}"
    keys = world.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="operator")["Credentials"]
    return boto3.client(
        "drs",
        region_name=world.region,
        endpoint_url=world.endpoint_url,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def start(world: Sandbox, plan_arn: str) -> str:
    execution = operator_client(world).start_recovery_plan_execution(recoveryPlanArn=plan_arn, mode="DRILL")
    return str(execution["recoveryPlanExecution"]["recoveryPlanExecutionArn"])


def status(world: Sandbox, execution_arn: str) -> str:
    """The execution's status as the world names an ending: SUCCEEDED, FAILED, ABORTED, or RUNNING."""
    from drsdoctor.sandbox.drs.plans_wire import plans_of

    with world.drs.lock:
        found = plans_of(world.drs).execution(execution_arn).status
    return _OUTCOME.get(found, "RUNNING")


def record(world: Sandbox, execution_arn: str) -> dict[str, Any] | None:
    """What DRS keeps of the run: the execution and its steps' statuses."""
    from drsdoctor.sandbox.drs.plans_wire import plans_of

    with world.drs.lock:
        execution = plans_of(world.drs).execution(execution_arn)
        steps = [{"name": step.name, "status": step.status, "error": step.error} for step in execution.steps]
        return {"status": execution.status, "error": execution.error, "steps": steps}


def progress(world: Sandbox, execution_arn: str) -> dict[str, Any]:
    found = record(world, execution_arn) or {}
    steps = found.get("steps", [])
    current = next(
        (i for i, step in enumerate(steps) if step["status"] not in ("COMPLETED", "SKIPPED")), len(steps)
    )
    return {
        "status": found.get("status"),
        "currentWave": current,
        "waves": [{"status": step["status"]} for step in steps],
    }


def orchestrator() -> Orchestrator:
    from drsdoctor.sandbox.orchestrators.recoveryplan.faults import FAULTS

    return Orchestrator(
        name="drs-recovery-plan",
        summary="DRS's own recovery plan: ordered steps of CRITICAL and OPTIONAL "
        "servers and a wait, run by DRS as the operator role that starts it",
        stack_name=STACK_NAME,
        bucket=BUCKET,
        template=template,
        artifacts=dict,
        parameters={},
        names=names,
        seed=seed,
        start_input=lambda _world, plan: {"recoveryPlanArn": plan, "mode": "DRILL"},
        progress=progress,
        record=record,
        faults=FAULTS,
        start=start,
        status=status,
    )
