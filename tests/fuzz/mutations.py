"""Hypothesis strategies for fuzzing parsers: random text, and near-valid mutations of real inputs (a few
edits to a text that parses), which reach the parsers' inner checks that random text never does."""

from __future__ import annotations

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
