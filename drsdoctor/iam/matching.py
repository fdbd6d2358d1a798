"""Wildcards, ARNs and policy variables, matched the way IAM matches them.

Actions match case-insensitively, resources and ARNs case-sensitively; `*` matches any run of
characters and `?` one character. An ARN pattern is matched segment by segment (partition,
service, region, account, resource), so a wildcard in the region never swallows the account.
Compiled patterns are cached: the sandbox authorises every call with these.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

# ${aws:username}, ${aws:PrincipalTag/team}, ${aws:username, 'default'}; ${*} ${?} ${$} are escapes
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class MissingVariable(Exception):
    """A policy variable names a context key the request does not carry: the element cannot match."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def has_variables(text: str) -> bool:
    return "${" in text


def variable_keys(text: str) -> list[str]:
    """The context keys a string's policy variables read (escapes excluded)."""
    keys = []
    for match in _VARIABLE.finditer(text):
        key, _default = _split_default(match.group(1))
        if key not in _ESCAPES:
            keys.append(key)
    return keys


def required_keys(text: str) -> tuple[str, ...]:
    """Lower-cased context keys a string's variables need (those without a default value)."""
    keys = []
    for match in _VARIABLE.finditer(text):
        key, default = _split_default(match.group(1))
        if key not in _ESCAPES and default is None:
            keys.append(key.lower())
    return tuple(keys)


def _split_default(body: str) -> tuple[str, str | None]:
    # IAM allows a default value: ${aws:username, 'nobody'}
    if "," in body:
        key, _, rest = body.partition(",")
        rest = rest.strip()
        if len(rest) >= 2 and rest[0] == rest[-1] == "'":
            return key.strip(), rest[1:-1]
    return body.strip(), None


def substitute(text: str, context: Mapping[str, list[str]], *, as_pattern: bool) -> str:
    """Replace policy variables with context values (keys looked up lower-cased).

    In a pattern, an escape `${*}` must stay a literal star, so it becomes a private marker that
    `compile_glob` turns back into an escaped character.
    """

    def replace(match: re.Match[str]) -> str:
        key, default = _split_default(match.group(1))
        if key in _ESCAPES:
            return _LITERAL_MARK + key if as_pattern else key
        values = context.get(key.lower())
        if not values:
            if default is not None:
                return default
            raise MissingVariable(key)
        # a multivalued key cannot fill a variable; AWS treats the element as not matching
        if len(values) != 1:
            raise MissingVariable(key)
        value = values[0]
        # a substituted value is data, not a pattern: its own stars match only stars
        return "".join(_LITERAL_MARK + c if c in "*?" else c for c in value) if as_pattern else value

    return _VARIABLE.sub(replace, text)


_LITERAL_MARK = "\x00"


def glob_body(pattern: str) -> str:
    """A glob (`*`, `?`) as regex source; a character after the literal mark stays literal."""
    parts: list[str] = []
    literal = False
    for char in pattern:
        if literal:
            parts.append(re.escape(char))
            literal = False
        elif char == _LITERAL_MARK:
            literal = True
        elif char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


@lru_cache(maxsize=8192)
def compile_glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A glob as an anchored regex."""
    return re.compile(glob_body(pattern) + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=4096)
def compile_any_glob(patterns: tuple[str, ...], ignore_case: bool = False) -> re.Pattern[str]:
    """One anchored regex matching any of several globs: one match call instead of many."""
    body = "|".join(glob_body(pattern) for pattern in patterns)
    return re.compile(f"(?:{body})\\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def is_glob(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern or _LITERAL_MARK in pattern


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern and _LITERAL_MARK not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return compile_glob(pattern, ignore_case).match(value) is not None


def action_match(pattern: str, action: str) -> bool:
    """`drs:Describe*` against `drs:DescribeJobs`: case-insensitive."""
    return glob_match(pattern, action, ignore_case=True)


@lru_cache(maxsize=8192)
def _arn_segments(pattern: str) -> tuple[re.Pattern[str], ...] | None:
    segments = pattern.split(":", 5)
    if len(segments) < 6:
        return None
    return tuple(compile_glob(segment) for segment in segments)


@lru_cache(maxsize=65536)
def arn_match(pattern: str, value: str) -> bool:
    """Match an ARN pattern segment by segment; a non-ARN pattern matches the whole string."""
    if pattern == "*":
        return True
    if pattern.startswith("arn:"):
        compiled = _arn_segments(pattern)
        if compiled is not None:
            segments = value.split(":", 5)
            if len(segments) < 6:
                return False
            pairs = zip(compiled, segments, strict=True)
            return all(regex.match(segment) is not None for regex, segment in pairs)
    return glob_match(pattern, value)
