"""Intrinsic functions resolved the same way on both sides, into comparable values.

Identity parameters (the environment name) and pseudo parameters resolve to their own token
(`${EnvironmentName}`, `${AWS::AccountId}`), a Ref to a resource to `<LogicalId>` and a GetAtt
to `<LogicalId.Attr>`: two deployments of one template then resolve to the same values.
Conditions are decided with the real parameter values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drsdoctor.diff.loader import TemplateError, where

PSEUDO = {
    "AWS::StackName": "${AWS::StackName}",
    "AWS::StackId": "${AWS::StackId}",
    "AWS::AccountId": "${AWS::AccountId}",
    "AWS::Region": "${AWS::Region}",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
# resources whose Ref is their ARN: GetAtt Arn and Ref are then the same value
REF_IS_ARN = frozenset(
    {
        "AWS::StepFunctions::StateMachine",
        "AWS::SNS::Topic",
        "AWS::IAM::ManagedPolicy",
        "AWS::CloudFormation::Stack",
    }
)
NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Resolver:
    """Resolves one template's intrinsics; `name` is the file or stack, for error messages."""

    template: Mapping[str, Any]
    parameters: dict[str, Any]
    identity: set[str]
    name: str
    _conditions: dict[str, bool] = field(default_factory=dict)

    @property
    def resources(self) -> Mapping[str, Any]:
        return self.template.get("Resources") or {}

    def condition(self, condition_name: str) -> bool:
        if condition_name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if condition_name not in conditions:
                raise TemplateError(f"{where(self.name, conditions)}: unknown condition {condition_name}")
            self._conditions[condition_name] = False  # a condition that refers to itself is false
            self._conditions[condition_name] = bool(self._decide(conditions[condition_name]))
        return self._conditions[condition_name]

    def _decide(self, node: Any) -> Any:
        """Conditions use the real values: Equals(EnvironmentName, prod) must see 'prod'."""
        if isinstance(node, Mapping) and len(node) == 1:
            key, arg = next(iter(node.items()))
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                return _plain(self._decide(arg[0])) == _plain(self._decide(arg[1]))
            if key == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
                return not self._decide(arg[0])
            if key == "Fn::And" and isinstance(arg, list):
                return all(self._decide(a) for a in arg)
            if key == "Fn::Or" and isinstance(arg, list):
                return any(self._decide(a) for a in arg)
            if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
                raise TemplateError(f"{where(self.name, node)}: {key} has malformed arguments")
            if key == "Ref" and isinstance(arg, str) and arg in self.parameters:
                return self.parameters[arg]
        return self.resolve(node)

    def resolve(self, node: Any) -> Any:
        """The value of `node` with every intrinsic resolved; AWS::NoValue drops the key or item."""
        if isinstance(node, Mapping):
            if len(node) == 1:
                key, arg = next(iter(node.items()))
                if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                    return self._function(key, arg, node)
            out = {}
            for key, value in node.items():
                resolved = self.resolve(value)
                if resolved is not NO_VALUE:
                    out[str(key)] = resolved
            return out
        if isinstance(node, list):
            return [item for item in (self.resolve(v) for v in node) if item is not NO_VALUE]
        if isinstance(node, str):
            return str(node)  # decoded strings are node subclasses; keep plain ones
        return node

    def ref(self, target: str, node: Any) -> Any:
        if target in self.parameters:
            return f"${{{target}}}" if target in self.identity else self.parameters[target]
        if target == "AWS::NoValue":
            return NO_VALUE
        if target == "AWS::NotificationARNs":
            return []
        if target in PSEUDO:
            return PSEUDO[target]
        if target in self.resources:
            return f"<{target}>"
        raise TemplateError(f"{where(self.name, node)}: Ref to unknown parameter or resource {target}")

    def get_att(self, target: str, attribute: str, node: Any) -> str:
        if target not in self.resources:
            raise TemplateError(f"{where(self.name, node)}: GetAtt of unknown resource {target}")
        resource_type = self.resources[target].get("Type")
        if attribute == "Arn" and resource_type in REF_IS_ARN:
            return f"<{target}>"
        return f"<{target}.{attribute}>"

    def _function(self, key: str, arg: Any, node: Any) -> Any:
        if key == "Ref":
            return self.ref(str(arg), node)
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if not isinstance(parts, list) or len(parts) != 2:
                raise TemplateError(f"{where(self.name, node)}: GetAtt needs [Resource, Attribute]")
            attribute = self.resolve(parts[1])
            return self.get_att(str(parts[0]), str(attribute), node)
        if key == "Fn::Sub":
            return self._sub(arg, node)
        if key == "Fn::If":
            if not isinstance(arg, list) or len(arg) != 3:
                raise TemplateError(f"{where(self.name, node)}: Fn::If needs [Condition, IfTrue, IfFalse]")
            return self.resolve(arg[1] if self.condition(str(arg[0])) else arg[2])
        if key == "Fn::Join":
            if not isinstance(arg, list) or len(arg) != 2:
                raise TemplateError(f"{where(self.name, node)}: Fn::Join needs [Delimiter, [Values]]")
            values = self.resolve(arg[1])
            if not isinstance(values, list):
                return {key: [arg[0], values]}
            return str(arg[0]).join(_text(v) for v in values)
        if key == "Fn::Select":
            index, values = (
                (self.resolve(a) for a in arg) if isinstance(arg, list) and len(arg) == 2 else (0, 0)
            )
            if isinstance(values, list) and str(index).isdigit() and int(index) < len(values):
                return values[int(index)]
            return {key: [index, values]}
        if key == "Fn::Split":
            delimiter, text = (
                (self.resolve(a) for a in arg) if isinstance(arg, list) and len(arg) == 2 else ("", 0)
            )
            return text.split(delimiter) if isinstance(text, str) and delimiter else {key: [delimiter, text]}
        if key == "Fn::FindInMap":
            return self._find_in_map(arg, node)
        if key == "Fn::ToJsonString":
            return json.dumps(_plain(self.resolve(arg)), sort_keys=True)
        if key in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return self._decide({key: arg})
        # GetAZs, ImportValue, Base64, Cidr, Transform, Length: kept as a resolved expression
        return {key: self.resolve(arg)}

    def _sub(self, arg: Any, node: Any) -> str:
        if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping):
            text, local = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        elif isinstance(arg, str):
            text, local = arg, {}
        else:
            raise TemplateError(
                f"{where(self.name, node)}: Fn::Sub needs a string or [String, {{Variables}}]"
            )
        if not isinstance(text, str):
            raise TemplateError(f"{where(self.name, node)}: Fn::Sub needs a string")

        def replace(match: re.Match[str]) -> str:
            variable = match.group(1).strip()
            if variable in local:
                return _text(local[variable])
            if "." in variable and variable.split(".", 1)[0] in self.resources:
                target, attribute = variable.split(".", 1)
                return self.get_att(target, attribute, node)
            return _text(self.ref(variable, node))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _find_in_map(self, arg: Any, node: Any) -> Any:
        if not isinstance(arg, list) or len(arg) < 3:
            raise TemplateError(f"{where(self.name, node)}: Fn::FindInMap needs [Map, TopKey, SecondKey]")
        map_name, top, second = (self._decide(a) for a in arg[:3])
        try:
            return self.resolve(self.template["Mappings"][map_name][top][second])
        except (KeyError, TypeError):
            return {"Fn::FindInMap": [map_name, top, second]}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(_plain(value), sort_keys=True)


def _plain(value: Any) -> Any:
    """Decoded nodes as plain dicts, lists and strings (json and equality then behave)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def parameter_values(template: Mapping[str, Any], given: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Each declared parameter's value: given, else its default; a parameter without either is an error."""
    declared = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"{name}: no parameter named {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, spec in declared.items():
        if key in given:
            values[str(key)] = given[key]
        elif isinstance(spec, Mapping) and "Default" in spec:
            default = spec["Default"]
            values[str(key)] = str(default) if isinstance(default, (str, int, float)) else _plain(default)
        else:
            values[str(key)] = f"<no value for {key}>"
    return values


IDENTITY_NAME = re.compile(r"env|stage|prefix|suffix|project|application|^app|name$", re.IGNORECASE)


def identity_parameters(parameters: Mapping[str, Any], stack_name: str | None = None) -> set[str]:
    """Parameters that name the deployment rather than configure it: their values differ by design."""
    identity = set()
    for key, value in parameters.items():
        if not isinstance(value, str) or len(value) < 2:
            continue
        if IDENTITY_NAME.search(key) or (stack_name and len(value) >= 3 and value in stack_name):
            identity.add(key)
    return identity
