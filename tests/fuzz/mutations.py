"""Hypothesis strategies for fuzzing parsers: random text, and near-valid mutations of real inputs (a few
edits to a text that parses), which reach the parsers' inner checks that random text never does."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# what breaks structured text: delimiters, quotes, escapes, YAML and JSON punctuation, odd characters
TOKENS = st.sampled_from([
    "{", "}", "[", "]", ":", ",", '"', "'", "\\", "\\u", "\\ud800", "\n", "\t", "  ", "#", "!", "&", "*",
    "- ", "|", ">", "%", "@", "`", "null", "true", "1e309", "-0", "9" * 20, "\x00", "\u2028", "\ufeff",
    "NaN", "${", "}}", "!Ref ", "!Sub ", "!GetAtt ", "Fn::", "arn:", "::", "/", "*", "?", "é", "\U0001f600",
])


@st.composite
def mutated(draw: Any, original: str, max_edits: int = 4) -> str:
    """``original`` with 1 to ``max_edits`` random edits: delete, insert, replace, duplicate or truncate."""
    text = original
    for _ in range(draw(st.integers(1, max_edits))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 40)))
        edit = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        if edit == "delete":
            text = text[:at] + text[end:]
        elif edit == "insert":
            text = text[:at] + draw(TOKENS | st.text(max_size=4)) + text[at:]
        elif edit == "replace":
            text = text[:at] + draw(TOKENS | st.text(min_size=1, max_size=4)) + text[end:]
        elif edit == "duplicate":
            text = text[:end] + text[at:end] + text[end:]
        else:
            text = text[:at]
    return text


def nested(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


DEEP = st.sampled_from([nested(5000), nested(100_000), '{"a":' * 3000 + "1" + "}" * 3000,
                        "- " * 2000 + "x", "1" + "0" * 5000])


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**70), st.floats(allow_nan=True),
                    st.text(max_size=8),
                    st.sampled_from(["*", "", "arn:aws:states:::lambda:invoke", "${A.Arn}"]))
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def mutated_json(draw: Any, original: Any, max_edits: int = 3) -> Any:
    """A decoded document with 1 to ``max_edits`` of its values (or keys) replaced, removed or retyped."""
    document = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, max_edits))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            return draw(JSON_VALUES)
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        edit = draw(st.sampled_from(["replace", "remove", "rename", "wrap"]))
        if edit == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif edit == "remove":
            del parent[path[-1]]
        elif edit == "wrap":
            parent[path[-1]] = [parent[path[-1]]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = parent.pop(path[-1])
    return document
