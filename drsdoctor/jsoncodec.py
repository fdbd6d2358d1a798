"""Dataclasses to plain JSON and back, driven by their type hints: what makes a bundle round-trip exactly.

Handles nested dataclasses, lists, dicts, optionals and timezone-aware datetimes (ISO 8601); keys a
dataclass does not know (from a newer collector) are ignored rather than refused.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Union


def encode(value: Any) -> Any:
    """A dataclass (and what it holds) as plain JSON values; datetimes as ISO 8601 text."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is datetime:
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: encode(getattr(value, name)) for name in _field_names(kind)}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(field.name for field in dataclasses.fields(kind))
    return names


Decoder = Callable[[Any], Any]


def decode(hint: Any, value: Any) -> Any:
    """``value`` (plain JSON) as the type ``hint`` names; ValueError when the shapes disagree."""
    return _decoder(hint)(value)


@functools.cache
def _decoder(hint: Any) -> Decoder:
    """One decoding function per type, built once: a 20,000-event history loads in well under a second."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = _decoder(options[0]) if len(options) == 1 else _identity
        return lambda value: None if value is None else inner(value)
    if origin is list:
        item = _decoder(typing.get_args(hint)[0])
        return lambda value: None if value is None else [item(x) for x in _expect(value, list, hint)]
    if origin is dict:
        item = _decoder(typing.get_args(hint)[1])
        return lambda value: None if value is None else {
            key: item(x) for key, x in _expect(value, dict, hint).items()}
    if hint in _SCALARS:  # a bundle is input: a number where text belongs is refused here, not in a check
        accepted = _SCALARS[hint]
        return lambda value: value if value is None or type(value) in accepted else _expect(value, hint, hint)
    if hint is datetime:
        return lambda value: None if value is None else datetime.fromisoformat(_expect(value, str, hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = {name: _decoder(field_hint) for name, field_hint in typing.get_type_hints(hint).items()}

        def build(value: Any) -> Any:
            if value is None:
                return None
            data = _expect(value, dict, hint)
            return hint(**{name: fields[name](item) for name, item in data.items() if name in fields})

        return build
    return _identity


_SCALARS: dict[Any, tuple[type, ...]] = {str: (str,), bool: (bool,), int: (int,), float: (float, int)}


def _identity(value: Any) -> Any:
    return value


def _expect(value: Any, kind: type, hint: Any) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"expected {getattr(hint, '__name__', hint)}, got {type(value).__name__}")
    return value
