"""One side of a diff, from a template (and for a deployed stack, what is live): resolved and normalised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drsdoctor.diff.canonical import canonical_properties
from drsdoctor.diff.loader import TemplateError, load_template_file, where
from drsdoctor.diff.model import DELETED, Resource, Side
from drsdoctor.diff.resolve import REF_IS_ARN, Resolver, identity_parameters, parameter_values
from drsdoctor.diff.tokens import NAME_PROPERTIES, Tokeniser, side_concrete_values


@dataclass
class Deployment:
    """What a deployed stack adds to its template: names, ids and live configuration (raw, per logical id)."""

    stack_name: str
    account: str | None = None
    region: str | None = None
    physical_ids: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    nested: dict[str, tuple[Mapping[str, Any], dict[str, Any], Deployment]] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)  # resources whose live configuration could not be read


@dataclass
class Source:
    """A side before it is built: its template and parameter values; identity is decided for the pair."""

    label: str
    kind: str
    template: Mapping[str, Any]
    parameters: dict[str, Any]
    deployment: Deployment | None = None
    base_dir: Path | None = None  # where a file's nested templates are looked up
    # the reference borrows a deployed side's stack name, account and region: its values came from there
    borrowed: Deployment | None = None

    def identity(self) -> set[str]:
        stack_name = self.deployment.stack_name if self.deployment else None
        return identity_parameters(self.parameters, stack_name)


def source_from_template(
    template: Mapping[str, Any],
    label: str,
    kind: str,
    given: Mapping[str, Any],
    deployment: Deployment | None = None,
    base_dir: Path | None = None,
) -> Source:
    return Source(label, kind, template, parameter_values(template, given, label), deployment, base_dir)


def build_side(source: Source, identity: set[str]) -> Side:
    resources: dict[str, Resource] = {}
    outputs = _collect(source, identity, "", resources)
    stack_name = source.deployment.stack_name if source.deployment else None
    declared = source.template.get("Parameters") or {}
    no_echo = {str(key) for key, spec in declared.items()
               if isinstance(spec, Mapping) and str(spec.get("NoEcho", "")).lower() == "true"}
    unread = list(source.deployment.unread) if source.deployment else []
    return Side(source.label, source.kind, dict(source.parameters), identity, resources, outputs, stack_name,
                no_echo, unread)


def _collect(source: Source, identity: set[str], prefix: str, into: dict[str, Resource]) -> dict[str, Any]:
    """Resolve one (possibly nested) template into `into`; returns its outputs."""
    resolver = Resolver(source.template, source.parameters, identity, source.label)
    deployment = source.deployment
    resolved: dict[str, tuple[str, dict[str, Any]]] = {}
    for logical_id, body in resolver.resources.items():
        condition = body.get("Condition")
        if condition and not resolver.condition(str(condition)):
            continue
        properties = resolver.resolve(body.get("Properties") or {})
        if not isinstance(properties, dict):
            raise TemplateError(
                f"{where(source.label, body)}: Properties of {logical_id} do not resolve to a mapping"
            )
        resolved[str(logical_id)] = (str(body["Type"]), canonical_properties(str(body["Type"]), properties))
    tokeniser = _tokeniser(source, identity, resolved)
    for logical_id, (resource_type, properties) in resolved.items():
        normal = tokeniser.value(properties)
        name_key = NAME_PROPERTIES.get(resource_type)
        if name_key and isinstance(properties.get(name_key), str):
            # a resource's own name is compared as a name, not as its own token
            normal[name_key] = tokeniser.concrete_text(properties[name_key])
        live = None
        if deployment and logical_id in deployment.live:
            raw = deployment.live[logical_id]
            if raw.get(DELETED):
                live = {DELETED: True}
            elif resource_type == "AWS::Lambda::Permission":
                live = _permission_live(normal, tokeniser.value(raw.get(STATEMENTS, [])))
            else:
                live = tokeniser.value(canonical_properties(resource_type, raw))
        physical = deployment.physical_ids.get(logical_id) if deployment else None
        into[prefix + logical_id] = Resource(prefix + logical_id, resource_type, normal, live, physical)
        if resource_type == "AWS::CloudFormation::Stack":
            _nested(source, identity, prefix + logical_id, properties, into)
    outputs = {}
    for key, output in (source.template.get("Outputs") or {}).items():
        if not isinstance(output, Mapping):
            continue
        if output.get("Condition") and not resolver.condition(str(output["Condition"])):
            continue
        outputs[prefix + str(key)] = tokeniser.value(
            resolver.resolve({k: v for k, v in output.items() if k in ("Value", "Export")})
        )
    return outputs


def _tokeniser(
    source: Source, identity: set[str], resolved: Mapping[str, tuple[str, Mapping[str, Any]]]
) -> Tokeniser:
    deployment = source.deployment or source.borrowed
    concrete = side_concrete_values(
        source.parameters,
        identity,
        deployment.stack_name if deployment else None,
        deployment.account if deployment else None,
        deployment.region if deployment else None,
    )
    if source.deployment:
        for logical_id, physical in source.deployment.physical_ids.items():
            resource_type = resolved.get(logical_id, ("", {}))[0]
            concrete[physical] = f"<{logical_id}>"
            arn = source.deployment.arns.get(logical_id)
            if arn:
                concrete[arn] = f"<{logical_id}>" if resource_type in REF_IS_ARN else f"<{logical_id}.Arn>"
    tokeniser = Tokeniser(concrete)
    tokeniser.add_names(
        {
            logical_id: (resource_type, properties.get(NAME_PROPERTIES.get(resource_type, "")))
            for logical_id, (resource_type, properties) in resolved.items()
        }
    )
    return tokeniser


STATEMENTS = "__statements__"  # a permission's live form: the function's resource policy statements
PERMISSION_KEYS = ("Action", "Principal", "SourceArn", "SourceAccount")


def _permission_live(template: Mapping[str, Any], statements: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The statement of the function's policy that grants what the Permission declares, or gone."""
    wanted = {k: template.get(k) for k in PERMISSION_KEYS if template.get(k) is not None}
    for statement in statements:
        if all(statement.get(k) == v for k, v in wanted.items()):
            return {}
    return {DELETED: True}


def _nested(
    source: Source,
    identity: set[str],
    logical_id: str,
    properties: Mapping[str, Any],
    into: dict[str, Resource],
) -> None:
    """Follow a nested stack: a deployed one through its own deployment, a file's through TemplateURL."""
    given = {str(k): v for k, v in (properties.get("Parameters") or {}).items()}
    deployment = source.deployment
    if deployment is not None:
        nested = deployment.nested.get(logical_id.rsplit("/", 1)[-1])
        if nested is None:
            return
        template, parameters, child = nested
        child_source = Source(f"{source.label}/{logical_id}", source.kind, template, parameters, child)
    else:
        url = properties.get("TemplateURL")
        if not isinstance(url, str) or "://" in url or source.base_dir is None:
            return  # an S3 URL cannot be followed offline; the nested stack compares as a resource
        path = source.base_dir / url
        template = load_template_file(path)
        try:
            parameters = parameter_values(template, given, str(path))
        except TemplateError:
            parameters = parameter_values(template, {}, str(path))
        child_source = Source(str(path), source.kind, template, parameters, None, path.parent)
    child_identity = identity | identity_parameters(child_source.parameters)
    _collect(child_source, child_identity, f"{logical_id}/", into)
