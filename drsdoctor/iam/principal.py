"""A principal and its policies, loaded from the IAM API (read-only) or from a CloudFormation template."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from drsdoctor.errors import InputError
from drsdoctor.iam.evaluate import ContextValue, PolicySet
from drsdoctor.iam.intrinsics import Resolver
from drsdoctor.iam.policy import Policy, parse_policy


@dataclass
class Principal:
    """A role with every policy that applies to it; `source` says where it was read from."""

    arn: str
    name: str
    policies: PolicySet
    source: str
    context: dict[str, ContextValue] = field(default_factory=dict)  # aws:PrincipalArn, aws:PrincipalTag/*
    unresolved: list[str] = field(default_factory=list)  # policies named but not readable offline
    trust: Any = None  # the role's trust policy document, when read from IAM


def _principal_context(arn: str, tags: list[tuple[str, str]]) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    if "{{" not in arn:
        context["aws:PrincipalArn"] = arn
        context["aws:PrincipalAccount"] = arn.split(":")[4]
    context["aws:PrincipalType"] = "AssumedRole"
    for key, value in tags:
        context[f"aws:PrincipalTag/{key}"] = value
    return context


# --- from the IAM API ------------------------------------------------------------------------

def _document(raw: Any) -> Any:
    # boto3 decodes policy documents; a raw API answer is URL-encoded JSON
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(unquote(raw))
    except ValueError:
        # moto serialises a document CloudFormation gave it as a Python dict literal
        from drsdoctor import pyast

        return pyast.literal_eval(unquote(raw))


def _call(client: Any, operation: str, resource: str, **kwargs: Any) -> Any:
    from drsdoctor.aws.failures import failure_from

    try:
        return getattr(client, operation)(**kwargs)
    except Exception as error:  # botocore raises many kinds; failure_from names them all (an AwsCallError)
        name = "".join(part.title() for part in operation.split("_"))
        raise failure_from(error, "iam", name, resource) from None


def _pages(client: Any, operation: str, key: str, resource: str, **kwargs: Any) -> Iterator[Any]:
    marker: str | None = None
    while True:
        page = _call(client, operation, resource, **kwargs, **({"Marker": marker} if marker else {}))
        yield from page.get(key, [])
        if not page.get("IsTruncated"):
            return
        marker = page.get("Marker")


def _managed(client: Any, arn: str, kind: str) -> Policy:
    policy = _call(client, "get_policy", arn, PolicyArn=arn)["Policy"]
    version = _call(client, "get_policy_version", arn, PolicyArn=arn,
                    VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return parse_policy(_document(version["Document"]), name=policy.get("PolicyName", arn), kind=kind,
                        source_type="aws-managed" if ":iam::aws:policy/" in arn else "user-managed")


def load_role(iam_client: Any, role_name_or_arn: str) -> Principal:
    """Read a deployed role's inline, attached managed (default version) and boundary policies.

    Read calls only: iam:GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies,
    GetPolicy, GetPolicyVersion.
    """
    name = role_name_or_arn.rsplit("/", 1)[-1] if role_name_or_arn.startswith("arn:") else role_name_or_arn
    if not name:
        raise InputError(f"{role_name_or_arn!r} does not name a role")
    role = _call(iam_client, "get_role", name, RoleName=name)["Role"]
    policies = PolicySet()
    for policy_name in _pages(iam_client, "list_role_policies", "PolicyNames", name, RoleName=name):
        document = _call(iam_client, "get_role_policy", name, RoleName=name, PolicyName=policy_name)
        policies.identity.append(parse_policy(_document(document["PolicyDocument"]), name=policy_name,
                                              source_type="role"))
    attached_policies = _pages(iam_client, "list_attached_role_policies", "AttachedPolicies", name,
                               RoleName=name)
    for attached in attached_policies:
        policies.identity.append(_managed(iam_client, attached["PolicyArn"], "identity"))
    boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        policies.boundary = _managed(iam_client, boundary, "boundary")
    tags = [(tag["Key"], tag["Value"]) for tag in role.get("Tags", [])]
    trust = role.get("AssumeRolePolicyDocument")
    return Principal(arn=role["Arn"], name=role["RoleName"], policies=policies, source="aws",
                     context=_principal_context(role["Arn"], tags),
                     trust=_document(trust) if trust is not None else None)


# --- from a CloudFormation template ----------------------------------------------------------

def _load_template(template: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(template, Mapping):
        loaded: Any = template
    else:
        # diff-stacks' loader: short-form tags, duplicate keys and line numbers handled once for all
        from drsdoctor.diff.loader import load_template_file

        loaded = load_template_file(template)
    if not isinstance(loaded, Mapping) or not isinstance(loaded.get("Resources"), Mapping):
        raise InputError(f"template {template} has no Resources section")
    return loaded


def _refers_to(resolver: Resolver, node: Any, logical_id: str, role_name: str) -> bool:
    if isinstance(node, Mapping) and set(node) == {"Ref"}:
        return node["Ref"] == logical_id
    return resolver.resolve(node) == role_name


def _template_policy(resolver: Resolver, document: Any, name: str, kind: str, source_type: str) -> Policy:
    resolved = resolver.resolve(document)
    if isinstance(resolved, str):
        try:
            resolved = json.loads(resolved)
        except json.JSONDecodeError as error:
            raise InputError(f"{name}: PolicyDocument is not valid JSON: {error.msg}") from None
    return parse_policy(resolved, name=name, kind=kind, source_type=source_type)


def load_role_from_template(template: Mapping[str, Any] | str | Path, logical_id: str,
                            parameters: Mapping[str, str] | None = None) -> Principal:
    """A template's AWS::IAM::Role with its inline Policies, the AWS::IAM::Policy / RolePolicy /
    ManagedPolicy resources attached to it and its boundary; intrinsics resolved where possible."""
    loaded = _load_template(template)
    resources: Mapping[str, Any] = loaded["Resources"]
    role = resources.get(logical_id)
    if not isinstance(role, Mapping) or role.get("Type") != "AWS::IAM::Role":
        roles = sorted(key for key, value in resources.items()
                       if isinstance(value, Mapping) and value.get("Type") == "AWS::IAM::Role")
        raise InputError(f"no AWS::IAM::Role {logical_id!r} in the template "
                         f"(roles: {', '.join(roles) or 'none'})")
    resolver = Resolver(loaded, parameters)
    properties: Mapping[str, Any] = role.get("Properties") or {}
    role_name = str(resolver.ref(logical_id))
    arn = str(resolver.get_att(logical_id, "Arn"))
    policies, unresolved = PolicySet(), []

    def managed(reference: Any, kind: str) -> Policy | None:
        is_ref = isinstance(reference, Mapping) and set(reference) == {"Ref"}
        target = reference.get("Ref") if is_ref else None
        resource = resources.get(target) if isinstance(target, str) else None
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::IAM::ManagedPolicy":
            return _template_policy(resolver, (resource.get("Properties") or {}).get("PolicyDocument"),
                                    str(target), kind, "user-managed")
        unresolved.append(str(resolver.resolve(reference)))
        return None

    for inline in resolver.present(properties.get("Policies")):
        name = str(resolver.resolve(inline.get("PolicyName", "inline")))
        document = inline.get("PolicyDocument")
        policies.identity.append(_template_policy(resolver, document, name, "identity", "role"))
    for reference in resolver.present(properties.get("ManagedPolicyArns")):
        found = managed(reference, "identity")
        if found:
            policies.identity.append(found)
    if properties.get("PermissionsBoundary") is not None:
        policies.boundary = managed(properties["PermissionsBoundary"], "boundary")
    for other_id, other in resources.items():
        if not isinstance(other, Mapping):
            continue
        other_properties: Mapping[str, Any] = other.get("Properties") or {}
        kind = other.get("Type")
        attached_roles = other_properties.get("Roles") or []
        if kind == "AWS::IAM::RolePolicy":
            attached_roles = [other_properties.get("RoleName")]
        if kind not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            continue
        if not any(_refers_to(resolver, item, logical_id, role_name) for item in attached_roles):
            continue
        source_type = "user-managed" if kind == "AWS::IAM::ManagedPolicy" else "role"
        name = str(resolver.resolve(other_properties.get("PolicyName", other_id)))
        policies.identity.append(_template_policy(resolver, other_properties.get("PolicyDocument"), name,
                                                  "identity", source_type))
    tags = [(str(resolver.resolve(t.get("Key"))), str(resolver.resolve(t.get("Value"))))
            for t in properties.get("Tags") or [] if isinstance(t, Mapping)]
    return Principal(arn=arn, name=role_name, policies=policies, source="template",
                     context=_principal_context(arn, tags), unresolved=unresolved)
