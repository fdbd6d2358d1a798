"""CloudFormation intrinsic functions, resolved as far as a template alone allows.

What the template cannot tell (an account id, a stack name, an import) stays symbolic as
`{{Name}}`: braces are never wildcards, so a symbolic ARN never matches a real one by accident,
and `${...}` stays free for IAM policy variables.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_DEFAULTS = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
# attributes we can compute from a resource's own properties: type -> attribute -> ARN template
_REGIONAL = "arn:{AWS::Partition}:%s:{AWS::Region}:{AWS::AccountId}:%s"
_ARNS = {
    ("AWS::IAM::Role", "Arn"): "arn:{AWS::Partition}:iam::{AWS::AccountId}:role{path}{name}",
    ("AWS::Lambda::Function", "Arn"): _REGIONAL % ("lambda", "function:{name}"),
    ("AWS::DynamoDB::Table", "Arn"): _REGIONAL % ("dynamodb", "table/{name}"),
}
_NAME_PROPERTY = {"AWS::IAM::Role": "RoleName", "AWS::Lambda::Function": "FunctionName",
                  "AWS::DynamoDB::Table": "TableName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName"}


def symbol(name: str) -> str:
    return "{{" + name + "}}"


class Resolver:
    """Resolves Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::FindInMap."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.values: dict[str, str] = dict(_PSEUDO_DEFAULTS)
        for name, declaration in (template.get("Parameters") or {}).items():
            if isinstance(declaration, Mapping) and "Default" in declaration:
                self.values[name] = str(declaration["Default"])
        self.values.update({key: str(value) for key, value in (parameters or {}).items()})

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.resolve(i) for i in node) if item is not _NO_VALUE]
        if not isinstance(node, Mapping):
            return node
        if len(node) == 1:
            (function, argument), = node.items()
            handler = _HANDLERS.get(str(function))
            if handler is not None:
                return handler(self, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def present(self, items: Any) -> list[Any]:
        """A list property's elements as deployed, unresolved inside: an element (or the whole list) that is
        an Fn::If takes its branch, and one that is AWS::NoValue is not there."""
        items = self._chosen(items)
        chosen = [self._chosen(item) for item in items] if isinstance(items, list) else []
        return [item for item in chosen if item is not _NO_VALUE]

    def _chosen(self, node: Any) -> Any:
        while isinstance(node, Mapping) and set(node) == {"Fn::If"}:
            argument = node["Fn::If"]
            if not (isinstance(argument, list) and len(argument) == 3):
                break
            node = argument[2] if self.condition(str(argument[0])) is False else argument[1]
        return _NO_VALUE if isinstance(node, Mapping) and dict(node) == {"Ref": "AWS::NoValue"} else node

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.values:
            return self.values[name]
        resource = self.resources.get(name)
        if isinstance(resource, Mapping):
            # a role, function or table's Ref is its name; a managed policy's Ref is its ARN
            type_name = resource.get("Type", "")
            if type_name == "AWS::IAM::ManagedPolicy":
                return symbol(name)
            given = (resource.get("Properties") or {}).get(_NAME_PROPERTY.get(type_name, ""))
            if given is not None:
                return self.resolve(given)
        return symbol(name)

    def get_att(self, name: str, attribute: str) -> Any:
        resource = self.resources.get(name)
        if isinstance(resource, Mapping):
            type_name = resource.get("Type", "")
            template = _ARNS.get((type_name, attribute))
            properties = resource.get("Properties") or {}
            given = properties.get(_NAME_PROPERTY.get(type_name, ""))
            if template is not None and given is not None:
                path = self.resolve(properties.get("Path", "/"))
                fields = {**self.values, "name": self.resolve(given), "path": path}
                return re.sub(r"\{([\w:]+)\}", lambda m: str(fields.get(m.group(1), symbol(m.group(1)))),
                              template)
        return symbol(f"{name}.{attribute}")

    def condition(self, name: str) -> bool | None:
        declared = (self.template.get("Conditions") or {}).get(name)
        return self._truth(declared) if declared is not None else None

    def _truth(self, node: Any) -> bool | None:
        if not isinstance(node, Mapping) or len(node) != 1:
            return None
        (function, argument), = node.items()
        if function == "Condition":
            return self.condition(str(argument))
        if function == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
            left, right = self.resolve(argument[0]), self.resolve(argument[1])
            if any(isinstance(side, str) and "{{" in side for side in (left, right)):
                return None
            return str(left) == str(right)
        parts = [self._truth(item) for item in argument] if isinstance(argument, list) else []
        if function == "Fn::Not" and len(parts) == 1:
            return None if parts[0] is None else not parts[0]
        if function == "Fn::And" and parts:
            return False if False in parts else None if None in parts else True
        if function == "Fn::Or" and parts:
            return True if True in parts else None if None in parts else False
        return None


def _sub(resolver: Resolver, argument: Any) -> Any:
    text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
    if not isinstance(text, str):
        return symbol("Fn::Sub")
    local = {key: resolver.resolve(value) for key, value in (variables or {}).items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}: how IAM variables survive Sub
        if name in local:
            return str(local[name])
        if "." in name and not name.startswith("AWS::"):
            resource, _, attribute = name.partition(".")
            return str(resolver.get_att(resource, attribute))
        return str(resolver.ref(name))

    return _SUB_VARIABLE.sub(replace, text)


def _get_att(resolver: Resolver, argument: Any) -> Any:
    if isinstance(argument, str):
        name, _, attribute = argument.partition(".")
    elif isinstance(argument, list) and len(argument) == 2:
        name, attribute = str(argument[0]), str(resolver.resolve(argument[1]))
    else:
        return symbol("Fn::GetAtt")
    return resolver.get_att(name, attribute)


def _join(resolver: Resolver, argument: Any) -> Any:
    if isinstance(argument, list) and len(argument) == 2:
        items = resolver.resolve(argument[1])
        if isinstance(items, list):
            return str(argument[0]).join(str(item) for item in items)
    return symbol("Fn::Join")


def _select(resolver: Resolver, argument: Any) -> Any:
    if isinstance(argument, list) and len(argument) == 2:
        items = resolver.resolve(argument[1])
        try:
            return items[int(resolver.resolve(argument[0]))]
        except (ValueError, TypeError, IndexError, KeyError):
            pass
    return symbol("Fn::Select")


def _split(resolver: Resolver, argument: Any) -> Any:
    if isinstance(argument, list) and len(argument) == 2:
        text = resolver.resolve(argument[1])
        if isinstance(text, str):
            return text.split(str(argument[0]))
    return symbol("Fn::Split")


def _if(resolver: Resolver, argument: Any) -> Any:
    if isinstance(argument, list) and len(argument) == 3:
        truth = resolver.condition(str(argument[0]))
        # an undecidable condition takes the true branch: the template's primary intent
        return resolver.resolve(argument[2] if truth is False else argument[1])
    return symbol("Fn::If")


def _find_in_map(resolver: Resolver, argument: Any) -> Any:
    if isinstance(argument, list) and len(argument) == 3:
        keys = [resolver.resolve(item) for item in argument]
        try:
            return resolver.resolve(resolver.template["Mappings"][keys[0]][keys[1]][keys[2]])
        except (KeyError, TypeError):
            pass
    return symbol("Fn::FindInMap")


_HANDLERS = {
    "Ref": lambda resolver, argument: resolver.ref(str(argument)),
    "Fn::Sub": _sub,
    "Fn::GetAtt": _get_att,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::ImportValue": lambda resolver, argument: symbol(f"ImportValue:{resolver.resolve(argument)}"),
    "Fn::GetAZs": lambda resolver, argument: [symbol("Fn::GetAZs")],
    "Fn::Base64": lambda resolver, argument: resolver.resolve(argument),
}
