"""The known-good definition of a drifted state machine: the one in its own stack's template (the stack,
or nested stack, the topology found it in), with the template's references filled with this deployment's
values, ready for `aws stepfunctions update-state-machine --definition file://...`.

A reference (`${Function.Arn}`, `!Ref Param`, `${AWS::Region}`) takes the value it has in the deployed
definition wherever the drift left that place alone, else the value the stack's facts give (a parameter,
a resource's physical id, the ARN built from it). A reference none of these fill leaves no definition:
a file with a hole in it would be worse than none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from drsdoctor.snapshot import Snapshot, Stack

_TOKEN = re.compile(r"<([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)>|\$\{(AWS::[A-Za-z]+)\}")
_ARN_OF = {  # resource type -> the ARN a GetAtt Arn resolves to, from its physical id
    "AWS::Lambda::Function": "arn:{partition}:lambda:{region}:{account}:function:{id}",
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{id}",
    "AWS::IAM::Role": "arn:{partition}:iam::{account}:role/{id}",
    "AWS::SQS::Queue": "arn:{partition}:sqs:{region}:{account}:{id}",
}


class NoDefinition(Exception):
    """Why no known-good definition can be given (one line, for the fix's note)."""


def known_good_definition(snap: Snapshot, template: Mapping[str, Any], logical_id: str | None) -> str:
    """The template's definition of the state machine, with this deployment's values: JSON text."""
    machine, stack = snap.state_machine, snap.stack
    if machine is None or stack is None:
        raise NoDefinition("no state machine or stack to take it from")
    resources = template.get("Resources") or {}
    found = [(name, body) for name, body in resources.items() if isinstance(body, Mapping)
             and body.get("Type") == "AWS::StepFunctions::StateMachine"
             and (not logical_id or name == logical_id)]
    if len(found) != 1:
        raise NoDefinition(f"stack {stack.name}'s template has no single state machine resource")
    properties = found[0][1].get("Properties") or {}
    parameters = {name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()
                  if isinstance(spec, Mapping)}
    parameters.update(stack.parameters)
    resolver = _resolver(template, parameters, f"stack {stack.name}")
    try:
        if "Definition" in properties:
            text = json.dumps(resolver.resolve(properties["Definition"]))
        else:
            text = resolver.resolve(properties.get("DefinitionString"))
        substitutions = resolver.resolve(properties.get("DefinitionSubstitutions") or {})
    except Exception as bad:  # TemplateError, or an intrinsic the resolver keeps as an expression
        raise NoDefinition(f"its template's definition cannot be resolved: {bad}") from None
    if not isinstance(text, str) or not isinstance(substitutions, Mapping):
        raise NoDefinition("its template's definition is not a JSON string after its intrinsics")
    for key, value in substitutions.items():
        text = text.replace("${" + str(key) + "}", value if isinstance(value, str) else json.dumps(value))
    try:
        baseline = json.loads(text)
        deployed = json.loads(machine.definition)
    except ValueError as bad:
        raise NoDefinition(f"a definition is not JSON: {bad}") from None
    values = _stack_values(snap, stack, resources)
    _learn(baseline, deployed, values, resolver.emitted)
    filled = _filled(baseline, values, resolver.emitted)
    return json.dumps(filled, indent=2) + "\n"


def _stack_values(snap: Snapshot, stack: Stack, resources: Mapping[str, Any]) -> dict[str, str]:
    """What the stack's facts say each reference is: pseudo parameters, Refs, and ARNs built from ids."""
    parts = (snap.state_machine.arn if snap.state_machine else "").split(":")
    partition, region, account = (parts[1], parts[3], parts[4]) if len(parts) > 4 else ("aws", "", "")
    region, account = snap.region or region, snap.account or account
    values = {"${AWS::Region}": region, "${AWS::AccountId}": account, "${AWS::StackName}": stack.name,
              "${AWS::StackId}": stack.arn, "${AWS::Partition}": partition}
    for resource in stack.resources:
        if not resource.physical_id:
            continue
        values[f"<{resource.logical_id}>"] = resource.physical_id
        kind = (resources.get(resource.logical_id) or {}).get("Type", resource.type)
        function = snap.function(resource.physical_id) if kind == "AWS::Lambda::Function" else None
        if function is not None and function.arn:
            values[f"<{resource.logical_id}.Arn>"] = function.arn
        elif resource.physical_id.startswith("arn:"):
            values[f"<{resource.logical_id}.Arn>"] = resource.physical_id
        elif kind in _ARN_OF and region and account:
            values[f"<{resource.logical_id}.Arn>"] = _ARN_OF[kind].format(
                partition=partition, region=region, account=account, id=resource.physical_id)
    return {key: value for key, value in values.items() if value}


def _resolver(template: Mapping[str, Any], parameters: dict[str, Any], name: str) -> Any:
    """diff-stacks' resolver, where a reference to something the template does not declare (a resource of a
    sibling stack, a transform's output) is a token to fill like the others, not an error."""
    from drsdoctor.diff.resolve import Resolver

    class Tolerant(Resolver):
        emitted: set[str]

        def ref(self, target: str, node: Any) -> Any:
            if target in self.parameters or target in self.resources or target.startswith("AWS::"):
                value = super().ref(target, node)
            else:
                value = f"<{target}>"
            if isinstance(value, str) and value.startswith("<"):
                self.emitted.add(value.strip("<>").split(".")[0])
            return value

        def get_att(self, target: str, attribute: str, node: Any) -> str:
            self.emitted.add(target)
            return super().get_att(target, attribute, node) if target in self.resources else (
                f"<{target}.{attribute}>")

    resolver = Tolerant(template, parameters, set(), name)
    resolver.emitted = set()
    return resolver


def _tokens(text: str, emitted: set[str]) -> list[re.Match[str]]:
    return [m for m in _TOKEN.finditer(text) if m.group(3) or m.group(1) in emitted]


def _learn(baseline: Any, deployed: Any, values: dict[str, str], emitted: set[str]) -> None:
    """Where the deployed definition has the template's shape, a reference takes the value deployed there:
    what CloudFormation really resolved it to."""
    if isinstance(baseline, Mapping) and isinstance(deployed, Mapping):
        for key, item in baseline.items():
            if key in deployed:
                _learn(item, deployed[key], values, emitted)
    elif isinstance(baseline, list) and isinstance(deployed, list) and len(baseline) == len(deployed):
        for before, after in zip(baseline, deployed, strict=True):
            _learn(before, after, values, emitted)
    elif isinstance(baseline, str) and isinstance(deployed, str):
        found = _tokens(baseline, emitted)
        if not found:
            return
        pattern, last = "", 0
        for match in found:
            pattern += re.escape(baseline[last:match.start()]) + "(.+?)"
            last = match.end()
        matched = re.fullmatch(pattern + re.escape(baseline[last:]), deployed, re.DOTALL)
        if matched:
            for match, value in zip(found, matched.groups(), strict=True):
                values[match.group(0)] = value


def _filled(value: Any, values: dict[str, str], emitted: set[str]) -> Any:
    if isinstance(value, Mapping):
        return {key: _filled(item, values, emitted) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, values, emitted) for item in value]
    if isinstance(value, str):
        for match in reversed(_tokens(value, emitted)):
            token = match.group(0)
            if token not in values:
                raise NoDefinition(f"nothing in the deployment says what {token} is")
            value = value[:match.start()] + values[token] + value[match.end():]
    return value
