"""Per-type differs: what changed in a function, rule, table, state machine or role, and how much it matters.

Each differ takes the effective properties of one resource on both sides (already resolved and
normalised) and returns Changes; anything without a differ of its own is compared leaf by leaf.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from drsdoctor.diff.iam_diff import statements_of
from drsdoctor.diff.inner import describe
from drsdoctor.diff.model import Change
from drsdoctor.diff.secrets import REDACTED, looks_secret

CATEGORY_OF_TYPE = {
    "AWS::IAM::Role": "iam",
    "AWS::IAM::Policy": "iam",
    "AWS::IAM::ManagedPolicy": "iam",
    "AWS::StepFunctions::StateMachine": "statemachine",
    "AWS::Events::Rule": "rule",
    "AWS::Scheduler::Schedule": "rule",
    "AWS::DynamoDB::Table": "table",
    "AWS::Lambda::Function": "function",
    "AWS::Lambda::Permission": "function",
    "AWS::Lambda::EventSourceMapping": "function",
}
# losing one of these breaks the orchestration outright
VITAL_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::Lambda::Function",
        "AWS::Lambda::Permission",
        "AWS::DynamoDB::Table",
        "AWS::Events::Rule",
        "AWS::StepFunctions::StateMachine",
    }
)
LOW_RISK_KEYS = frozenset({"Tags", "Description", "Comment", "Metadata"})

Differ = Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], list[Change]]


def leaves(before: Any, after: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Differing leaves of two values; lists of different lengths differ as a whole."""
    if before == after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            yield from leaves(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from leaves(a, b, f"{path}[{index}]")
    else:
        yield path, before, after


def kind_of(before: Any, after: Any) -> str:
    return "added" if before is None else "removed" if after is None else "modified"


def short(value: Any, limit: int = 70) -> str:
    if value is None:
        return "nothing"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def change(
    resource: str,
    rtype: str,
    path: str,
    before: Any,
    after: Any,
    risk: str,
    what: str,
    category: str | None = None,
) -> Change:
    category = category or CATEGORY_OF_TYPE.get(rtype, "other")
    if before is None:
        summary = f"{resource} {what} added: {short(after)}"
    elif after is None:
        summary = f"{resource} {what} removed" + (
            "" if isinstance(before, (dict, list)) else f" (was {short(before)})"
        )
    else:
        summary = f"{resource} {what}: {describe(before, after)}"
    return Change(resource, rtype, kind_of(before, after), category, path, before, after, risk, summary)


def _risk_of_key(key: str, default: str = "medium") -> str:
    return "low" if key.split(".")[0].split("[")[0] in LOW_RISK_KEYS else default


def generic(
    resource: str,
    rtype: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    skip: frozenset[str] = frozenset(),
    risks: Mapping[str, str] | None = None,
) -> list[Change]:
    """Leaf-by-leaf comparison of the properties no specific rule covers."""
    risks = risks or {}
    changes = []
    for key in sorted(set(before) | set(after), key=str):
        if key in skip:
            continue
        if key == "Tags":
            old, new = _tags(before.get(key)), _tags(after.get(key))
            if old != new:
                changes.append(change(resource, rtype, "Tags", old or None, new or None, "low", "tags"))
            continue
        for path, a, b in leaves(before.get(key), after.get(key), key):
            changes.append(change(resource, rtype, path, a, b, risks.get(key, _risk_of_key(key)), path))
    return changes


def _tags(tags: Any) -> dict[str, Any]:
    if isinstance(tags, list):
        return {str(t.get("Key")): t.get("Value") for t in tags if isinstance(t, Mapping)}
    return dict(tags) if isinstance(tags, Mapping) else {}


def function(resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    changes = []
    old_env = (before.get("Environment") or {}).get("Variables") or {}
    new_env = (after.get("Environment") or {}).get("Variables") or {}
    for name in sorted(set(old_env) | set(new_env)):
        a, b = old_env.get(name), new_env.get(name)
        if a == b:
            continue
        secret = looks_secret(name, a) or looks_secret(name, b)
        shown_a = REDACTED if secret and a is not None else a
        shown_b = REDACTED if secret and b is not None else b
        risk = "medium" if a is None else "high"  # a removed or repointed variable breaks the function
        what = f"environment variable {name}" + (" (value hidden: looks secret)" if secret else "")
        changes.append(
            change(resource, rtype, f"Environment.Variables.{name}", shown_a, shown_b, risk, what, "env")
        )
    reserved_b = after.get("ReservedConcurrentExecutions")
    risks = {
        "Handler": "high",
        "Role": "high",
        "FunctionName": "high",
        "Runtime": "medium",
        "ReservedConcurrentExecutions": "high" if reserved_b == 0 else "medium",
    }
    for path, a, b in leaves(before.get("Code"), after.get("Code"), "Code"):
        changes.append(
            change(
                resource,
                rtype,
                path,
                "<code>" if "ZipFile" in path else a,
                "<code>" if "ZipFile" in path else b,
                "medium",
                "function code changed",
            )
        )
    return changes + generic(resource, rtype, before, after, frozenset({"Environment", "Code"}), risks)


def rule(resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    changes = []
    state_a, state_b = before.get("State", "ENABLED"), after.get("State", "ENABLED")
    if state_a != state_b:
        risk = "high" if state_b != "ENABLED" else "medium"
        changes.append(change(resource, rtype, "State", state_a, state_b, risk, "rule state"))
    old_targets = {str(t.get("Id")): t for t in before.get("Targets") or [] if isinstance(t, Mapping)}
    new_targets = {str(t.get("Id")): t for t in after.get("Targets") or [] if isinstance(t, Mapping)}
    for target_id in sorted(set(old_targets) | set(new_targets)):
        a, b = old_targets.get(target_id), new_targets.get(target_id)
        if a is None or b is None:
            risk = "high" if b is None else "medium"
            changes.append(change(resource, rtype, f"Targets.{target_id}", a, b, risk, f"target {target_id}"))
            continue
        for path, x, y in leaves(a, b, f"Targets.{target_id}"):
            risk = "high" if path.endswith((".Arn", ".RoleArn")) else "medium"
            changes.append(change(resource, rtype, path, x, y, risk, f"target {target_id}"))
    return changes + generic(
        resource, rtype, before, after, frozenset({"State", "Targets"}), {"Name": "high"}
    )


def table(resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    changes = []
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        old = {str(i.get("IndexName")): i for i in before.get(key) or [] if isinstance(i, Mapping)}
        new = {str(i.get("IndexName")): i for i in after.get(key) or [] if isinstance(i, Mapping)}
        for name in sorted(set(old) | set(new)):
            a, b = old.get(name), new.get(name)
            if a is None or b is None:
                risk = "high" if b is None else "medium"
                changes.append(change(resource, rtype, f"{key}.{name}", a, b, risk, f"index {name}"))
                continue
            for path, x, y in leaves(a, b, f"{key}.{name}"):
                risk = "high" if ".KeySchema" in path else "medium"
                changes.append(change(resource, rtype, path, x, y, risk, f"index {name}"))
    old_ttl, new_ttl = _ttl(before), _ttl(after)
    if old_ttl != new_ttl:
        changes.append(change(resource, rtype, "TimeToLiveSpecification", old_ttl, new_ttl, "medium", "TTL"))
    risks = {
        "TableName": "high",
        "KeySchema": "high",
        "BillingMode": "medium",
        "StreamSpecification": "medium",
        "AttributeDefinitions": "low",
        "ProvisionedThroughput": "low",
        "PointInTimeRecoverySpecification": "low",
        "SSESpecification": "low",
        "DeletionProtectionEnabled": "low",
    }
    skip = frozenset({"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "TimeToLiveSpecification"})
    return changes + generic(
        resource, rtype, _keyed_attributes(before), _keyed_attributes(after), skip, risks
    )


def _ttl(properties: Mapping[str, Any]) -> Any:
    spec = properties.get("TimeToLiveSpecification")
    if not isinstance(spec, Mapping) or not spec.get("Enabled"):
        return None
    return spec.get("AttributeName")


def _keyed_attributes(properties: Mapping[str, Any]) -> dict[str, Any]:
    # attribute definitions are a set: their order never matters
    out = dict(properties)
    attributes = out.get("AttributeDefinitions")
    if isinstance(attributes, list):
        out["AttributeDefinitions"] = {
            str(a.get("AttributeName")): a.get("AttributeType") for a in attributes if isinstance(a, Mapping)
        }
    return out


def state_machine(
    resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Change]:
    from drsdoctor.asl import AslError, diff_definitions, parse_definition

    changes = []
    old, new = before.get("Definition"), after.get("Definition")
    if old != new:
        try:
            asl_changes = diff_definitions(parse_definition(old or {}), parse_definition(new or {}))
        except AslError:
            asl_changes = []
            changes.append(
                change(resource, rtype, "Definition", old, new, "high", "definition (not parseable)")
            )
        for item in asl_changes:
            changes.append(
                Change(
                    resource,
                    rtype,
                    item.kind,
                    "statemachine",
                    f"Definition.{item.path}",
                    item.before,
                    item.after,
                    item.risk,
                    f"{resource}: {item.summary}",
                )
            )
    risks = {
        "RoleArn": "high",
        "StateMachineType": "high",
        "StateMachineName": "high",
        "LoggingConfiguration": "low",
        "TracingConfiguration": "low",
    }
    return changes + generic(resource, rtype, before, after, frozenset({"Definition"}), risks)


def role(resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Trust policy and managed policies; inline permissions are the IAM differ's (iam_diff)."""
    changes = []
    trust_a = set(statements_of([("trust", before.get("AssumeRolePolicyDocument"))]))
    trust_b = set(statements_of([("trust", after.get("AssumeRolePolicyDocument"))]))
    if trust_a != trust_b:
        changes.append(
            change(
                resource,
                rtype,
                "AssumeRolePolicyDocument",
                before.get("AssumeRolePolicyDocument"),
                after.get("AssumeRolePolicyDocument"),
                "high",
                "trust policy",
            )
        )
    old_managed = {str(a) for a in before.get("ManagedPolicyArns") or []}
    new_managed = {str(a) for a in after.get("ManagedPolicyArns") or []}
    for arn in sorted(old_managed - new_managed):
        changes.append(
            change(resource, rtype, "ManagedPolicyArns", arn, None, "high", "managed policy detached")
        )
    for arn in sorted(new_managed - old_managed):
        changes.append(
            change(
                resource,
                rtype,
                "ManagedPolicyArns",
                None,
                arn,
                "medium",
                "managed policy attached (broadening)",
            )
        )
    skip = frozenset({"AssumeRolePolicyDocument", "ManagedPolicyArns", "Policies"})
    return changes + generic(
        resource,
        rtype,
        before,
        after,
        skip,
        {"RoleName": "high", "PermissionsBoundary": "high", "Path": "medium"},
    )


def policy(resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """A standalone policy: its document is judged per role by the IAM differ, the rest here."""
    return generic(resource, rtype, before, after, frozenset({"PolicyDocument"}), {"Roles": "high"})


def permission(
    resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Change]:
    # a changed invoke permission is who may call the function: the rule may no longer reach the poller
    return generic(resource, rtype, before, after, risks={k: "high" for k in set(before) | set(after)})


DIFFERS: dict[str, Differ] = {
    "AWS::Lambda::Function": function,
    "AWS::Events::Rule": rule,
    "AWS::DynamoDB::Table": table,
    "AWS::StepFunctions::StateMachine": state_machine,
    "AWS::IAM::Role": role,
    "AWS::IAM::Policy": policy,
    "AWS::IAM::ManagedPolicy": policy,
    "AWS::Lambda::Permission": permission,
}


def diff_properties(
    resource: str, rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[Change]:
    differ = DIFFERS.get(rtype, generic)
    try:
        return differ(resource, rtype, before, after)
    except (TypeError, AttributeError, ValueError, KeyError):
        # a property not in the shape CloudFormation requires (Environment: 1): compared leaf by leaf
        return generic(resource, rtype, before, after)
