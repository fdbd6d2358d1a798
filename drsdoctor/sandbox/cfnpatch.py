"""moto's CloudFormation as real templates use it (moto 5.2.5); motopatch.install applies `install(replace)`.

1. Nested stacks: `!GetAtt Child.Outputs.X` (and `${Child.Outputs.X}` in a Sub) reads the child stack's
   output, as CloudFormation does (moto's Stack has no attributes: the parent failed to deploy). A nested
   stack's Ref and PhysicalResourceId are its stack ARN, and DescribeStacks gives it ParentId and RootId.
2. A state machine's `Definition` given as an object is deployed as its JSON text (moto reads only
   `DefinitionString` and deployed an empty definition), and `DefinitionSubstitutions` replace their
   `${name}` in the definition either way.
3. `Fn::If` choosing `AWS::NoValue` inside a list (e.g. one of a role's `Policies`) leaves the item out, as
   CloudFormation does; moto kept a null there (a role with a null policy cannot deploy).
4. An Output whose `Condition` is false is not created, and neither is its export (moto exported it).

`replace(owner, attribute, value)` is motopatch's: it remembers the original so uninstall puts it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Replace = Callable[[Any, str, Any], None]
OUTPUTS = "Outputs."


def install(replace: Replace) -> None:
    _patch_intrinsics(replace)
    _patch_nested_stacks(replace)
    _patch_state_machine_definitions(replace)
    _patch_output_conditions(replace)


# -- 1 and 3: what clean_json resolves ---------------------------------------------------------------------

def _function_of(cls: type, name: str) -> Any:
    """The function behind a classmethod, to call with another class."""
    return vars(cls)[name].__func__


def _may_be_no_value(item: Any) -> bool:
    return isinstance(item, dict) and ("Fn::If" in item or item.get("Ref") == "AWS::NoValue")


def _patch_intrinsics(replace: Replace) -> None:
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            cleaned = []
            for item in resource_json:
                value = clean_json(item, resources_map)
                if value is None and _may_be_no_value(item):
                    continue  # AWS::NoValue: the item is left out
                cleaned.append(value)
            return cleaned
        if isinstance(resource_json, dict) and isinstance(resource_json.get("Fn::GetAtt"), list) \
                and len(resource_json["Fn::GetAtt"]) > 2:
            # `!GetAtt Child.Outputs.X` and `${Child.Outputs.X}`: moto splits at every dot
            logical, *attribute = resource_json["Fn::GetAtt"]
            resource_json = {**resource_json, "Fn::GetAtt": [logical, ".".join(attribute)]}
        return original(resource_json, resources_map)

    replace(parsing, "clean_json", clean_json)


# -- 1: nested stacks --------------------------------------------------------------------------------------

def _patch_nested_stacks(replace: Replace) -> None:
    from moto.cloudformation import models
    from moto.cloudformation.exceptions import ValidationError

    stack_class = models.Stack

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name.startswith(OUTPUTS):
            key = attribute_name[len(OUTPUTS):]
            output = self.output_map[key] if key in self.output_map.outputs else None
            if output is None:
                raise ValidationError(message=f"Template error: stack {self.name} has no output {key} "
                                              f"(Fn::GetAtt {OUTPUTS}{key})")
            return output.value
        raise ValidationError(message=f"Template error: a nested stack has no attribute {attribute_name}")

    original_create = _function_of(stack_class, "create_from_cloudformation_json")

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        nested = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        parent_id = kwargs.get("StackId")
        if parent_id:
            backend = models.cloudformation_backends[account_id][region_name]
            parent = backend.stacks.get(parent_id)
            nested.parent_id = parent_id
            nested.root_id = getattr(parent, "root_id", None) or parent_id
        return nested

    replace(stack_class, "get_cfn_attribute", get_cfn_attribute)
    replace(stack_class, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json))
    # in AWS a nested stack's Ref (and its PhysicalResourceId) is its stack ARN
    replace(stack_class, "physical_resource_id", property(lambda self: self.stack_id))
    # DescribeStacks answers each member from the attribute of its name: ParentId, RootId
    replace(stack_class, "parent_id", None)
    replace(stack_class, "root_id", None)


# -- 2: state machine definitions --------------------------------------------------------------------------

def _definition_text(properties: dict[str, Any]) -> dict[str, Any]:
    """Properties with DefinitionString from Definition, and DefinitionSubstitutions applied."""
    properties = dict(properties)
    if "Definition" in properties and "DefinitionString" not in properties:
        properties["DefinitionString"] = json.dumps(properties.pop("Definition"))
    substitutions = properties.pop("DefinitionSubstitutions", None) or {}
    text = properties.get("DefinitionString")
    if isinstance(text, str):
        for name, value in substitutions.items():
            text = text.replace("${" + name + "}", value if isinstance(value, str) else json.dumps(value))
        properties["DefinitionString"] = text
    return properties


def _patch_state_machine_definitions(replace: Replace) -> None:
    from moto.stepfunctions.models import StateMachine

    original_create = _function_of(StateMachine, "create_from_cloudformation_json")
    original_update = _function_of(StateMachine, "update_from_cloudformation_json")

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        cloudformation_json = {**cloudformation_json,
                               "Properties": _definition_text(cloudformation_json.get("Properties", {}))}
        return original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: Any,
               account_id: str, region_name: str) -> Any:
        cloudformation_json = {**cloudformation_json,
                               "Properties": _definition_text(cloudformation_json.get("Properties", {}))}
        return original_update(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                               region_name)

    replace(StateMachine, "create_from_cloudformation_json", classmethod(create))
    replace(StateMachine, "update_from_cloudformation_json", classmethod(update))


# -- 4: conditional outputs --------------------------------------------------------------------------------

def _patch_output_conditions(replace: Replace) -> None:
    from moto.cloudformation import parsing

    def exports(self: Any) -> list[Any]:
        """moto's OutputMap.exports, but only of the outputs that exist (their Condition true)."""
        found = []
        for key, value in (self._output_json_map or {}).items():
            if value.get("Export") and self[key] is not None:
                name = parsing.clean_json(value["Export"].get("Name"), self._resource_map)
                found.append(parsing.Export(self._stack_id, name, self[key].value))
        return found

    replace(parsing.OutputMap, "exports", property(exports))
