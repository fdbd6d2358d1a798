"""JSON parsing that remembers where each object and each of its keys starts.

An operator fixing a policy mid-incident wants "line 14", not "statement 3". The standard
library's pure-Python scanner calls a replaceable object parser, so we wrap it instead of
writing a parser of our own.
"""

from __future__ import annotations

import json
import re
from json import decoder, scanner
from typing import Any


class LineDict(dict[str, Any]):
    """A JSON object with the line and column where it starts, and the line of each of its keys."""

    line: int = 0
    column: int = 0
    key_lines: dict[str, int]


def _key_lines(text: str, start: int, end: int, keys: list[str], base_line: int) -> dict[str, int]:
    found: dict[str, int] = {}
    span = text[start:end]
    for key in keys:
        match = re.search(re.escape(json.dumps(key)) + r"\s*:", span)
        if match:
            found[key] = base_line + span.count("\n", 0, match.start())
    return found


# the pure-Python scanner and object parser (typeshed does not declare them)
_JSON_OBJECT: Any = getattr(decoder, "JSONObject")  # noqa: B009
_PY_MAKE_SCANNER: Any = getattr(scanner, "py_make_scanner")  # noqa: B009


class _LineDecoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__(object_pairs_hook=LineDict)

        def parse_object(s_and_end: tuple[str, int], *args: Any, **kwargs: Any) -> tuple[Any, int]:
            text, start = s_and_end
            value, end = _JSON_OBJECT(s_and_end, *args, **kwargs)
            if isinstance(value, LineDict):
                value.line = text.count("\n", 0, start) + 1
                value.column = start - (text.rfind("\n", 0, start) + 1)
                value.key_lines = _key_lines(text, start, end, list(value), value.line)
            return value, end

        self.parse_object = parse_object
        self.scan_once = _PY_MAKE_SCANNER(self)


def loads_with_lines(text: str) -> Any:
    """json.loads, but every object is a LineDict; raises json.JSONDecodeError like json.loads."""
    return _LineDecoder().decode(text)
