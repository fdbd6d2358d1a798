"""Check a request body against its botocore input shape the way DRS does, patterns included.

botocore checks types and required members on the client, never patterns; DRS rejects a malformed id
with a ValidationException naming the field, and so do we.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "integer": (int,), "long": (int,), "float": (int, float),
    "double": (int, float),
}


def problems(shape: Shape, value: Any, path: str = "") -> list[tuple[str, str]]:
    """(field path, message) for every way `value` breaks `shape`; members the shape lacks are ignored."""
    if isinstance(shape, StructureShape):
        return _structure(shape, value, path)
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [(path, f"{path} must be a list")]
        found = _length(shape, len(value), path, "items")
        for index, item in enumerate(value):
            found += problems(shape.member, item, f"{path}[{index}]")
        return found
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [(path, f"{path} must be a map")]
        found = []
        for key, item in value.items():
            found += problems(shape.key, key, f"{path}.{key}") + problems(shape.value, item, f"{path}.{key}")
        return found
    return _scalar(shape, value, path)


def _structure(shape: StructureShape, value: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [(path or shape.name, f"{path or shape.name} must be an object")]
    found = [(_join(path, name), f"{_join(path, name)} is required")
             for name in shape.required_members if value.get(name) is None]
    for name, member in shape.members.items():
        if value.get(name) is not None:
            found += problems(member, value[name], _join(path, name))
    return found


def _scalar(shape: Shape, value: Any, path: str) -> list[tuple[str, str]]:
    kinds = _TYPES.get(shape.type_name)
    if kinds is None:
        return []
    if not isinstance(value, kinds) or (shape.type_name != "boolean" and isinstance(value, bool)):
        return [(path, f"{path} must be of type {shape.type_name}")]
    if shape.type_name != "string":
        low = shape.metadata.get("min")
        return [(path, f"{path} must be at least {low}")] if low is not None and value < low else []
    text = str(value)
    found = _length(shape, len(text), path, "characters")
    pattern = shape.metadata.get("pattern")
    if pattern and not re.fullmatch(pattern, text):
        found.append((path, f"{path} '{value}' does not match pattern {pattern}"))
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        found.append((path, f"{path} must be one of {', '.join(enum)}"))
    return found


def _length(shape: Shape, size: int, path: str, unit: str) -> list[tuple[str, str]]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        return [(path, f"{path} must have at least {low} {unit}")]
    if high is not None and size > high:
        return [(path, f"{path} must have at most {high} {unit}")]
    return []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
