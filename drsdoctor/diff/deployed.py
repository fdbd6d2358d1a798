"""A deployed stack as a diff side: its processed template, parameters, outputs and live configuration.

Read-only calls only (the session refuses anything else). The live configuration is put in the
template's shape, so a console edit shows up as drift against the stack's own template.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from drsdoctor.aws import AwsSession, failure_from
from drsdoctor.aws.failures import AwsFailure
from drsdoctor.diff.loader import load_deployed_template
from drsdoctor.diff.model import DELETED
from drsdoctor.diff.sides import STATEMENTS, Deployment, Source, source_from_template
from drsdoctor.errors import InputError

LiveReader = Callable[[AwsSession, str, str], tuple[dict[str, Any], str | None]]


def _call(client: Any, service: str, operation: str, resource: str, **kwargs: Any) -> Any:
    method = getattr(client, _snake(operation))
    try:
        return method(**kwargs)
    except Exception as error:  # botocore raises many types; failure_from names them all
        raise failure_from(error, service, operation, resource) from None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def load_stack(session: AwsSession, stack: str, given: Mapping[str, str]) -> Source:
    """The stack named (or ARN'd) `stack`, with its nested stacks; `given` overrides its parameter values."""
    region = stack.split(":")[3] if stack.startswith("arn:") else None
    template, parameters, deployment = read_stack(session, stack, region)
    parameters.update(given)
    return source_from_template(template, f"stack {deployment.stack_name}", "stack", parameters, deployment)


def read_stack(
    session: AwsSession, stack: str, region: str | None
) -> tuple[dict[str, Any], dict[str, Any], Deployment]:
    cloudformation = session.client("cloudformation", region)
    try:
        described = _call(cloudformation, "cloudformation", "DescribeStacks", stack, StackName=stack)[
            "Stacks"
        ][0]
    except AwsFailure as failure:
        if failure.kind in ("invalid", "not_found") or "does not exist" in failure.message:
            raise InputError(f"{stack}: no such stack in {region or session.region}") from None
        raise
    stack_id = described["StackId"]
    _, _, _, stack_region, account = stack_id.split(":")[:5]
    body = _call(
        cloudformation, "cloudformation", "GetTemplate", stack, StackName=stack_id, TemplateStage="Processed"
    )["TemplateBody"]
    template = load_deployed_template(body, f"stack {described['StackName']}")
    parameters = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
        for p in described.get("Parameters", [])
    }
    deployment = Deployment(
        described["StackName"],
        account,
        stack_region,
        outputs={o["OutputKey"]: o.get("OutputValue") for o in described.get("Outputs", [])},
    )
    resources = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        resources += page.get("StackResourceSummaries", [])
    readers = [
        (r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId"))
        for r in resources
        if r.get("PhysicalResourceId")
    ]
    for logical_id, _type, physical in readers:
        deployment.physical_ids[logical_id] = physical
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda item: _read_live(session, stack_region, item, deployment.unread),
                                readers))
    _read_permissions(session, stack_region, template, deployment)
    for (logical_id, resource_type, physical), (live, arn) in zip(readers, results, strict=True):
        if live is not None:
            deployment.live[logical_id] = live
        if arn:
            deployment.arns[logical_id] = arn
        if resource_type == "AWS::CloudFormation::Stack" and physical:
            _read_nested(session, stack_region, logical_id, physical, deployment)
    deployment.unread.sort()
    return template, parameters, deployment


def _read_nested(
    session: AwsSession, region: str, logical_id: str, physical: str, parent: Deployment
) -> None:
    """A nested stack's own template, parameters and live resources; what fails is named, never skipped."""
    try:
        parent.nested[logical_id] = nested = read_stack(session, physical, region)
    except AwsFailure as failure:
        if failure.fatal:
            raise
        need = f", needs {failure.needed_permission}" if failure.needed_permission else ""
        parent.unfollowed[logical_id] = (f"{failure.service}:{failure.operation} {physical}: "
                                         f"{failure.code}{need}")
        return
    except InputError as error:  # gone since it was listed, or a template that cannot be decoded
        parent.unfollowed[logical_id] = str(error)
        return
    parent.unread += [f"{logical_id}/{note}" for note in nested[2].unread]


def _read_live(
    session: AwsSession, region: str, resource: tuple[str, str, str], unread: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    logical_id, resource_type, physical = resource
    reader = LIVE_READERS.get(resource_type)
    if reader is None:
        return None, None
    try:
        return reader(session, region, physical)
    except AwsFailure as failure:
        if failure.fatal:
            raise
        if failure.kind == "not_found":
            return {DELETED: True}, None  # listed by the stack, gone from the service
        unread.append(unread_note(logical_id, failure))  # list.append: safe from the pool's threads
        return None, None  # a resource we may not read compares by its template alone


def unread_note(logical_id: str, failure: AwsFailure) -> str:
    """Why a resource's live configuration is missing from the comparison, naming the permission."""
    need = f", needs {failure.needed_permission}" if failure.needed_permission else ""
    return (f"{logical_id}: live configuration not read ({failure.service}:{failure.operation} "
            f"{failure.code}{need}); compared by its template alone, drift unseen")


def _read_permissions(
    session: AwsSession, region: str, template: Mapping[str, Any], deployment: Deployment
) -> None:
    """Each invoke permission's live form: the resource policy statements of the function it names."""
    for logical_id, body in (template.get("Resources") or {}).items():
        if not isinstance(body, Mapping) or body.get("Type") != "AWS::Lambda::Permission":
            continue
        if deployment.live.get(logical_id, {}).get(DELETED):
            continue
        name = _function_named((body.get("Properties") or {}).get("FunctionName"), deployment)
        if not name:
            continue
        try:
            deployment.live[logical_id] = {STATEMENTS: _policy_statements(session, region, name)}
        except AwsFailure as failure:
            if failure.fatal:
                raise
            deployment.unread.append(unread_note(logical_id, failure))


def _function_named(value: Any, deployment: Deployment) -> str | None:
    if isinstance(value, Mapping) and len(value) == 1:
        key, arg = next(iter(value.items()))
        target = arg if key == "Ref" else arg[0] if isinstance(arg, list) and arg else str(arg).split(".")[0]
        return deployment.physical_ids.get(str(target))
    return value if isinstance(value, str) else None


def _policy_statements(session: AwsSession, region: str, name: str) -> list[dict[str, Any]]:
    client = session.client("lambda", region)
    try:
        policy = _call(client, "lambda", "GetPolicy", name, FunctionName=name)["Policy"]
    except AwsFailure as failure:
        if failure.kind == "not_found":
            return []  # no resource policy at all: nobody else may invoke the function
        raise
    statements = []
    for statement in json.loads(policy).get("Statement", []):
        principal = statement.get("Principal")
        if isinstance(principal, Mapping):
            principal = principal.get("Service") or principal.get("AWS")
        condition = statement.get("Condition") or {}
        source_arn = {**(condition.get("ArnLike") or {}), **(condition.get("ArnEquals") or {})}
        statements.append(
            {
                "Action": statement.get("Action"),
                "Principal": principal,
                "SourceArn": source_arn.get("AWS:SourceArn"),
                "SourceAccount": (condition.get("StringEquals") or {}).get("AWS:SourceAccount"),
            }
        )
    return statements


def _function(session: AwsSession, region: str, name: str) -> tuple[dict[str, Any], str | None]:
    client = session.client("lambda", region)
    config = _call(client, "lambda", "GetFunctionConfiguration", name, FunctionName=name)
    live: dict[str, Any] = {
        key: config[key] for key in ("Runtime", "Handler", "Timeout", "MemorySize", "Role") if key in config
    }
    live["Environment"] = {"Variables": dict((config.get("Environment") or {}).get("Variables") or {})}
    concurrency = _call(client, "lambda", "GetFunctionConcurrency", name, FunctionName=name)
    if concurrency.get("ReservedConcurrentExecutions") is not None:
        live["ReservedConcurrentExecutions"] = concurrency["ReservedConcurrentExecutions"]
    return live, config.get("FunctionArn")


def _state_machine(session: AwsSession, region: str, arn: str) -> tuple[dict[str, Any], str | None]:
    client = session.client("stepfunctions", region)
    described = _call(client, "stepfunctions", "DescribeStateMachine", arn, stateMachineArn=arn)
    try:
        definition: Any = json.loads(described["definition"])
    except ValueError:
        definition = described["definition"]
    return {"Definition": definition, "RoleArn": described.get("roleArn")}, described.get("stateMachineArn")


def _role(session: AwsSession, region: str, name: str) -> tuple[dict[str, Any], str | None]:
    client = session.client("iam", region)
    role = _call(client, "iam", "GetRole", name, RoleName=name)["Role"]
    policies = []
    for page in client.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy_name in page.get("PolicyNames", []):
            document = _call(client, "iam", "GetRolePolicy", name, RoleName=name, PolicyName=policy_name)[
                "PolicyDocument"
            ]
            policies.append({"PolicyName": policy_name, "PolicyDocument": _document(document)})
    managed = []
    for page in client.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        managed += [p["PolicyArn"] for p in page.get("AttachedPolicies", [])]
    live: dict[str, Any] = {
        "AssumeRolePolicyDocument": _document(role.get("AssumeRolePolicyDocument")),
        "Policies": policies,
    }
    if managed:
        live["ManagedPolicyArns"] = managed
    return live, role.get("Arn")


def _document(document: Any) -> Any:
    if isinstance(document, str):  # IAM returns URL-encoded JSON where botocore did not decode it
        from urllib.parse import unquote

        try:
            return json.loads(unquote(document))
        except ValueError:
            pass
        try:
            # moto stores inline policies created by CloudFormation as a Python repr, not JSON
            from drsdoctor import pyast

            return pyast.literal_eval(document)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return document
    return document


def _rule(session: AwsSession, region: str, name: str) -> tuple[dict[str, Any], str | None]:
    client = session.client("events", region)
    bus, _, rule_name = name.rpartition("|")  # rules on a custom bus have the id bus|name
    kwargs = {"Name": rule_name, **({"EventBusName": bus} if bus else {})}
    described = _call(client, "events", "DescribeRule", name, **kwargs)
    live: dict[str, Any] = {"State": described.get("State")}
    if described.get("ScheduleExpression"):
        live["ScheduleExpression"] = described["ScheduleExpression"]
    if described.get("EventPattern"):
        live["EventPattern"] = json.loads(described["EventPattern"])
    targets = []
    for page in client.get_paginator("list_targets_by_rule").paginate(Rule=rule_name, **kwargs_bus(bus)):
        targets += page.get("Targets", [])
    live["Targets"] = [
        {
            k: v
            for k, v in t.items()
            if k
            in (
                "Id",
                "Arn",
                "Input",
                "InputPath",
                "RoleArn",
                "InputTransformer",
                "RetryPolicy",
                "DeadLetterConfig",
            )
        }
        for t in targets
    ]
    return live, described.get("Arn")


def kwargs_bus(bus: str) -> dict[str, str]:
    return {"EventBusName": bus} if bus else {}


def _table(session: AwsSession, region: str, name: str) -> tuple[dict[str, Any], str | None]:
    client = session.client("dynamodb", region)
    table = _call(client, "dynamodb", "DescribeTable", name, TableName=name)["Table"]
    live: dict[str, Any] = {
        "KeySchema": table.get("KeySchema", []),
        "AttributeDefinitions": table.get("AttributeDefinitions", []),
        "BillingMode": (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
    }
    indexes = [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i.get("Projection")}
        for i in table.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        live["GlobalSecondaryIndexes"] = indexes
    stream = table.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        live["StreamSpecification"] = {"StreamViewType": stream.get("StreamViewType")}
    ttl = _call(client, "dynamodb", "DescribeTimeToLive", name, TableName=name).get(
        "TimeToLiveDescription", {}
    )
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        live["TimeToLiveSpecification"] = {"AttributeName": ttl.get("AttributeName"), "Enabled": True}
    return live, table.get("TableArn")


LIVE_READERS: dict[str, LiveReader] = {
    "AWS::Lambda::Function": _function,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::IAM::Role": _role,
    "AWS::Events::Rule": _rule,
    "AWS::DynamoDB::Table": _table,
}
