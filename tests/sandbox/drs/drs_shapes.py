"""A strict check of DRS JSON against botocore's drs model, independent of the simulator's own validation."""

from __future__ import annotations

import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

DRS_MODEL = botocore.session.get_session().get_service_model("drs")
JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "integer": (int,),
                                           "long": (int,), "double": (int, float), "float": (int, float)}


def shape_problems(shape: Shape, value: Any, path: str = "$") -> list[str]:
    """What in `value` the shape does not allow: unknown members, wrong types, bad enums or patterns."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected object"]
        found = [f"{path}.{name}: required" for name in shape.required_members if name not in value]
        for name, item in value.items():
            member = shape.members.get(name)
            found += ([f"{path}.{name}: not in {shape.name}"] if member is None
                      else shape_problems(member, item, f"{path}.{name}"))
        return found
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected list"]
        return [p for i, item in enumerate(value) for p in shape_problems(shape.member, item, f"{path}[{i}]")]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected map"]
        return [p for key, item in value.items()
                for p in [*shape_problems(shape.key, key, path),
                          *shape_problems(shape.value, item, f"{path}.{key}")]]
    kinds = JSON_TYPES[shape.type_name]
    if not isinstance(value, kinds) or (shape.type_name != "boolean" and isinstance(value, bool)):
        return [f"{path}: expected {shape.type_name}, got {value!r}"]
    problems: list[str] = []
    if isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.name} enum")
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            problems.append(f"{path}: {value!r} does not match {pattern}")
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 10**9)
        if not low <= len(value) <= high:
            problems.append(f"{path}: length {len(value)} outside {low}..{high}")
    return problems
