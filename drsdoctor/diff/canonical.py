"""Resource properties in one canonical shape, whether they came from a template or from the live service.

Defaults are filled in (a function without Timeout has 3 seconds; a rule without State is
ENABLED), numbers are numbers, and a state machine's definition is one decoded document with
its substitutions applied, so `DefinitionString: !Sub` and a live definition compare alike.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "AWS::Lambda::Function": {"Timeout": 3, "MemorySize": 128},
    "AWS::Events::Rule": {"State": "ENABLED"},
    "AWS::DynamoDB::Table": {"BillingMode": "PROVISIONED"},
    "AWS::StepFunctions::StateMachine": {"StateMachineType": "STANDARD"},
}
NUMERIC = {
    "AWS::Lambda::Function": ("Timeout", "MemorySize", "ReservedConcurrentExecutions"),
}


def canonical_properties(resource_type: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    out = {**DEFAULTS.get(resource_type, {}), **properties}
    for key in NUMERIC.get(resource_type, ()):
        value = out.get(key)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            out[key] = int(value)
    if resource_type == "AWS::StepFunctions::StateMachine":
        out = _one_definition(out)
    if resource_type == "AWS::Lambda::Function":
        environment = out.get("Environment")
        if isinstance(environment, Mapping) and not environment.get("Variables"):
            out.pop("Environment")  # no variables and an empty Variables block are the same
        environment = out.get("Environment")
        variables = environment.get("Variables") if isinstance(environment, Mapping) else None
        if isinstance(variables, Mapping):
            out["Environment"] = {"Variables": {str(k): _scalar_text(v) for k, v in variables.items()}}
    return out


def _scalar_text(value: Any) -> Any:
    # Lambda stores every variable as a string; a template may write 30 or true
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _one_definition(properties: dict[str, Any]) -> dict[str, Any]:
    definition: Any = properties.pop("DefinitionString", None)
    if "Definition" in properties:
        definition = properties.pop("Definition")
    substitutions = properties.pop("DefinitionSubstitutions", None) or {}
    if isinstance(definition, str):
        for key, value in substitutions.items():
            definition = definition.replace(
                f"${{{key}}}", value if isinstance(value, str) else json.dumps(value)
            )
        # an unparseable definition stays text: the differ reports it as such
        with contextlib.suppress(ValueError):
            definition = json.loads(definition)
    elif isinstance(definition, Mapping) and substitutions:
        text = json.dumps(definition)
        for key, value in substitutions.items():
            text = text.replace(f"${{{key}}}", value if isinstance(value, str) else json.dumps(value))
        definition = json.loads(text)
    if definition is not None:
        properties["Definition"] = definition
    return properties
