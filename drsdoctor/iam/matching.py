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
    `compile_glob` reads as a literal character.
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


def _segments(pattern: str) -> list[tuple[str, int]]:
    """The parts between the pattern's stars: regex source (`?` any one character) and width."""
    parts: list[list[str]] = [[]]
    literal = False
    for char in pattern:
        if literal:
            parts[-1].append(re.escape(char))
            literal = False
        elif char == _LITERAL_MARK:
            literal = True
        elif char == "*":
            parts.append([])
        else:
            parts[-1].append("." if char == "?" else re.escape(char))
    return [("".join(part), len(part)) for part in parts]


class Glob:
    """A glob matched in linear passes, never by backtracking: a regex of `.*` per star tries every split
    of the value between the stars (`drs:*a*a*a*a*a*a*a*a*b` took seconds). Here the fixed-width parts
    between stars are found leftmost, in order: the first at the start, the last at the end, each middle
    one after the one before; leftmost is always right, since a star can absorb whatever is skipped."""

    __slots__ = ("first", "last", "middle", "starred", "width_first", "width_last")

    def __init__(self, pattern: str, ignore_case: bool = False) -> None:
        flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
        parts = _segments(pattern)
        self.starred = len(parts) > 1
        self.first, self.last = (re.compile(parts[i][0], flags) for i in (0, -1))
        self.width_first, self.width_last = parts[0][1], parts[-1][1]
        self.middle = [re.compile(source, flags) for source, width in parts[1:-1] if width]

    def matches(self, value: str) -> bool:
        if not self.starred:
            return self.first.fullmatch(value) is not None
        end = len(value) - self.width_last
        if end < self.width_first or self.first.match(value) is None:
            return False
        if self.last.fullmatch(value, end) is None:
            return False
        position = self.width_first
        for part in self.middle:
            found = part.search(value, position, end)
            if found is None:
                return False
            position = found.end()
        return True


class AnyGlob:
    """Several globs: does any match? Plain names are looked up, the globs tried one by one."""

    __slots__ = ("exact", "globs", "ignore_case")

    def __init__(self, patterns: tuple[str, ...], ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        plain = [p for p in patterns if not is_glob(p)]
        self.exact = frozenset(p.lower() for p in plain) if ignore_case else frozenset(plain)
        self.globs = [Glob(p, ignore_case) for p in patterns if is_glob(p)]

    def matches(self, value: str) -> bool:
        if (value.lower() if self.ignore_case else value) in self.exact:
            return True
        return any(glob.matches(value) for glob in self.globs)


@lru_cache(maxsize=8192)
def compile_glob(pattern: str, ignore_case: bool = False) -> Glob:
    return Glob(pattern, ignore_case)


@lru_cache(maxsize=4096)
def compile_any_glob(patterns: tuple[str, ...], ignore_case: bool = False) -> AnyGlob:
    """One matcher for several globs: the compiled parts are shared by every statement that uses them."""
    return AnyGlob(patterns, ignore_case)


def is_glob(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern or _LITERAL_MARK in pattern


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern and _LITERAL_MARK not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return compile_glob(pattern, ignore_case).matches(value)


def action_match(pattern: str, action: str) -> bool:
    """`drs:Describe*` against `drs:DescribeJobs`: case-insensitive."""
    return glob_match(pattern, action, ignore_case=True)


@lru_cache(maxsize=8192)
def _arn_segments(pattern: str) -> tuple[Glob, ...] | None:
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
            return all(glob.matches(segment) for glob, segment in pairs)
    return glob_match(pattern, value)
