"""Dataclasses to plain JSON and back, driven by their type hints: what makes a bundle round-trip exactly.

Handles nested dataclasses, lists, dicts, optionals and timezone-aware datetimes (ISO 8601); keys a
dataclass does not know (from a newer collector) are ignored rather than refused.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, Union


def encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return decode(options[0], value) if len(options) == 1 else value
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        return [decode(item_hint, item) for item in _expect(value, list, hint)]
    if origin is dict:
        _, item_hint = typing.get_args(hint)
        return {key: decode(item_hint, item) for key, item in _expect(value, dict, hint).items()}
    if hint is datetime:
        return datetime.fromisoformat(_expect(value, str, hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint not in _HINTS:
            _HINTS[hint] = typing.get_type_hints(hint)
        hints = _HINTS[hint]
        data = _expect(value, dict, hint)
        known = {name: decode(hints[name], item) for name, item in data.items() if name in hints}
        return hint(**known)
    return value


def _expect(value: Any, kind: type, hint: Any) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"expected {getattr(hint, '__name__', hint)}, got {type(value).__name__}")
    return value
