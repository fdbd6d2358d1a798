"""One side of a diff, from a template (and for a deployed stack, what is live): resolved and normalised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drsdoctor.diff.canonical import canonical_properties
from drsdoctor.diff.loader import TemplateError, load_template_file, where
from drsdoctor.diff.model import DELETED, Resource, Side
from drsdoctor.diff.nested import NotFollowed, template_file
from drsdoctor.diff.resolve import REF_IS_ARN, Resolver, identity_parameters, parameter_values
from drsdoctor.diff.tokens import NAME_PROPERTIES, Tokeniser, side_concrete_values, traced

Notes = tuple[list[str], set[str]]  # what a side could not follow: the notes, and the nested stacks' paths


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
    unfollowed: dict[str, str] = field(default_factory=dict)  # nested stack -> why it could not be read


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
    template_root: Path | None = None  # --template-root: another place to find nested templates

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
    notes: list[str] = []
    unfollowed: set[str] = set()
    outputs = _collect(source, identity, "", resources, (notes, unfollowed), ())
    stack_name = source.deployment.stack_name if source.deployment else None
    declared = source.template.get("Parameters") or {}
    no_echo = {str(key) for key, spec in declared.items()
               if isinstance(spec, Mapping) and str(spec.get("NoEcho", "")).lower() == "true"}
    unread = sorted((list(source.deployment.unread) if source.deployment else []) + notes)
    return Side(source.label, source.kind, dict(source.parameters), identity, resources, outputs, stack_name,
                no_echo, unread, unfollowed)


def _collect(
    source: Source,
    identity: set[str],
    prefix: str,
    into: dict[str, Resource],
    notes: Notes,
    chain: tuple[str, ...],
) -> dict[str, Any]:
    """Resolve one (possibly nested) template into `into`; returns its outputs.

    Each resource is resolved twice: with identity parameters as their tokens (its normal form) and
    with their real values (what the service holds), so a live value is normalised by provenance.
    """
    resolver = Resolver(source.template, source.parameters, identity, source.label)
    plain = Resolver(source.template, source.parameters, set(), source.label)
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
    real_names = {
        logical_id: plain.resolve(properties_of(resolver.resources[logical_id]).get(NAME_PROPERTIES[kind]))
        for logical_id, (kind, _) in resolved.items()
        if kind in NAME_PROPERTIES
    }
    template_words, live_words = _tokenisers(source, identity, resolved, real_names)
    for logical_id, (resource_type, properties) in resolved.items():
        normal = template_words.value(properties)
        name_key = NAME_PROPERTIES.get(resource_type)
        if name_key and isinstance(properties.get(name_key), str):
            # a resource's own name is compared as a name, not as its own token
            normal[name_key] = template_words.concrete_text(properties[name_key])
        live = None
        if deployment and logical_id in deployment.live:
            raw = deployment.live[logical_id]
            if raw.get(DELETED):
                live = {DELETED: True}
            elif resource_type == "AWS::Lambda::Permission":
                live = _permission_live(normal, live_words.value(raw.get(STATEMENTS, [])))
            else:
                real = plain.resolve(resolver.resources[logical_id].get("Properties") or {})
                live = traced(
                    canonical_properties(resource_type, raw),
                    canonical_properties(resource_type, real) if isinstance(real, dict) else real,
                    normal,
                    live_words,
                )
        physical = deployment.physical_ids.get(logical_id) if deployment else None
        into[prefix + logical_id] = Resource(prefix + logical_id, resource_type, normal, live, physical)
        if resource_type == "AWS::CloudFormation::Stack":
            given = plain.resolve(properties_of(resolver.resources[logical_id]).get("Parameters") or {})
            _nested(source, identity, prefix + logical_id, given, properties, into, notes, chain)
    outputs = {}
    for key, output in (source.template.get("Outputs") or {}).items():
        if not isinstance(output, Mapping):
            continue
        if output.get("Condition") and not resolver.condition(str(output["Condition"])):
            continue
        outputs[prefix + str(key)] = template_words.value(
            resolver.resolve({k: v for k, v in output.items() if k in ("Value", "Export")})
        )
    return outputs


def properties_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = body.get("Properties")
    return properties if isinstance(properties, Mapping) else {}


def _tokenisers(
    source: Source,
    identity: set[str],
    resolved: Mapping[str, tuple[str, Mapping[str, Any]]],
    real_names: Mapping[str, Any],
) -> tuple[Tokeniser, Tokeniser]:
    """One for template values, one for live values.

    A template value already carries each identity parameter as its token where the template used the
    parameter; its text is never searched for their values. Live values that drifted from the template
    have no such trace and are normalised by value (a value two parameters share stays as it is).
    """
    deployment = source.deployment or source.borrowed
    place = (
        deployment.stack_name if deployment else None,
        deployment.account if deployment else None,
        deployment.region if deployment else None,
    )
    for_template = side_concrete_values(source.parameters, set(), *place)
    for_live = side_concrete_values(source.parameters, identity, *place)
    if source.deployment:
        for logical_id, physical in source.deployment.physical_ids.items():
            resource_type = resolved.get(logical_id, ("", {}))[0]
            tokens = {physical: f"<{logical_id}>"}
            arn = source.deployment.arns.get(logical_id)
            if arn:
                tokens[arn] = f"<{logical_id}>" if resource_type in REF_IS_ARN else f"<{logical_id}.Arn>"
            for_template.update(tokens)
            for_live.update(tokens)
    names = {
        logical_id: (resource_type, properties.get(NAME_PROPERTIES.get(resource_type, "")))
        for logical_id, (resource_type, properties) in resolved.items()
    }
    made = []
    for concrete in (for_template, for_live):
        tokeniser = Tokeniser(concrete)
        tokeniser.add_names(names, real_names)
        made.append(tokeniser)
    return made[0], made[1]


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
    given: Mapping[str, Any],
    properties: Mapping[str, Any],
    into: dict[str, Resource],
    notes: Notes,
    chain: tuple[str, ...],
) -> None:
    """Follow a nested stack: a deployed one through its own deployment, a file's through its TemplateURL.

    `given` are the values the parent passes down (resolved with real values, so the child's conditions
    and names see what CloudFormation would give it). A child that cannot be followed is named in
    `notes` with the reason and its path kept: the stack then compares as a resource alone.
    """
    deployment = source.deployment
    own_id = logical_id.rsplit("/", 1)[-1]
    if deployment is not None:
        nested = deployment.nested.get(own_id)
        if nested is None:
            reason = deployment.unfollowed.get(own_id, "the stack lists no deployed nested stack for it")
            _not_followed(notes, logical_id, reason)
            return
        template, parameters, child = nested
        child_source = Source(f"{source.label}/{own_id}", source.kind, template, parameters, child)
    else:
        url = properties.get("TemplateURL")
        try:
            path = template_file(url, source.base_dir, source.template_root)
            if str(path.resolve()) in chain:
                raise NotFollowed(f"{path} nests itself (a cycle of nested templates)")
            template = load_template_file(path)
        except (NotFollowed, TemplateError) as error:
            _not_followed(notes, logical_id, str(error))
            return
        chain = (*chain, str(path.resolve()))
        declared = template.get("Parameters") or {}
        passed = {k: str(v) if isinstance(v, (int, float)) else v for k, v in given.items() if k in declared}
        ignored = sorted(set(given) - set(declared))
        if ignored:
            notes[0].append(f"{logical_id}: passes parameters its template {path} does not declare: "
                         f"{', '.join(ignored)} (CloudFormation would refuse it)")
        parameters = parameter_values(template, passed, str(path))
        child_source = Source(str(path), source.kind, template, parameters, None, path.parent,
                              source.borrowed, source.template_root)
    child_identity = identity | identity_parameters(child_source.parameters)
    _collect(child_source, child_identity, f"{logical_id}/", into, notes, chain)


def _not_followed(notes: Notes, logical_id: str, reason: str) -> None:
    notes[0].append(f"{logical_id}: nested stack not followed: {reason}; compared by its own Parameters "
                    "and TemplateURL alone, on both sides")
    notes[1].add(logical_id)
