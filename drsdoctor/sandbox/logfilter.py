"""CloudWatch Logs filter patterns as AWS evaluates them (a patch of motopatch.py for FilterLogEvents).

moto matches a pattern of plain words only and returns every event for anything else (`?ERROR ?Exception`,
a JSON pattern): a chatty function's one ERROR line sat pages deep. AWS's syntax, as documented:
- terms, case-sensitive: `ERROR Exception` (every term), `?ERROR ?Exception` (any of the `?` terms),
  `ERROR -Retrying` (not the `-` term); a term with spaces or punctuation in double quotes;
- JSON patterns over JSON events: `{ $.level = "ERROR" }`, `{ $.latency > 1000 }`, `!=`, `<=`, `>=`, `*` as
  a wildcard in a string, `IS TRUE|FALSE|NULL`, `EXISTS`, `NOT EXISTS`, `&&`, `||` and parentheses;
- `%regex%`: events the regular expression matches.
Space-delimited patterns (`[ip, user, ...]`) are not evaluated: they match every event, as in moto (a known
difference, listed in the README).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Matcher = Callable[[str], bool]
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_TERM = re.compile(rf'([?-]?)({_QUOTED}|\S+)')
_JSON_TOKEN = re.compile(rf'\s*(\|\||&&|\(|\)|!=|<=|>=|=|<|>|{_QUOTED}|[^\s()=!<>&|"]+)')
_MISSING = object()


class LogFilter:
    """moto's EventMessageFilter, faithful: `LogFilter(pattern).matches(message)`."""

    def __init__(self, pattern: str | None) -> None:
        self.pattern = (pattern or "").strip()
        try:
            self.matches: Matcher = _compile(self.pattern)
        except (ValueError, KeyError, re.error) as error:  # AWS refuses the call, naming the pattern
            from moto.logs.exceptions import InvalidParameterException

            raise InvalidParameterException(msg=f"Invalid filter pattern: {error}") from None


def _compile(pattern: str) -> Matcher:
    if not pattern or pattern.startswith("["):
        return lambda _message: True
    if pattern.startswith("{") and pattern.endswith("}"):
        return _JsonPattern(pattern[1:-1]).matches
    if len(pattern) > 1 and pattern.startswith("%") and pattern.endswith("%"):
        regex = re.compile(pattern[1:-1])
        return lambda message: regex.search(message) is not None
    return _terms(pattern)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return re.sub(r'\\(.)', r'\1', text[1:-1])
    return text


def _terms(pattern: str) -> Matcher:
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    for prefix, term in _TERM.findall(pattern):
        {"": required, "?": optional, "-": excluded}[prefix].append(_unquote(term))

    def matches(message: str) -> bool:
        return (all(term in message for term in required)
                and not any(term in message for term in excluded)
                and (not optional or any(term in message for term in optional)))

    return matches


class _JsonPattern:
    """A JSON pattern's expression, parsed once; an event that is not a JSON object never matches."""

    def __init__(self, body: str) -> None:
        self._tokens = _JSON_TOKEN.findall(body)
        self._at = 0
        self._tree = self._or()
        if self._at != len(self._tokens):
            raise ValueError(f"Invalid filter pattern near {' '.join(self._tokens[self._at:])!r}")

    def matches(self, message: str) -> bool:
        try:
            event = json.loads(message)
        except ValueError:
            return False
        return isinstance(event, dict) and bool(self._tree(event))

    # -- parsing -----------------------------------------------------------------------------------
    def _peek(self) -> str | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("Invalid filter pattern: it ends too soon")
        self._at += 1
        return token

    def _or(self) -> Callable[[Any], bool]:
        parts = [self._and()]
        while self._peek() == "||":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda event: any(part(event) for part in parts))

    def _and(self) -> Callable[[Any], bool]:
        parts = [self._atom()]
        while self._peek() == "&&":
            self._take()
            parts.append(self._atom())
        return parts[0] if len(parts) == 1 else (lambda event: all(part(event) for part in parts))

    def _atom(self) -> Callable[[Any], bool]:
        if self._peek() == "(":
            self._take()
            inner = self._or()
            if self._take() != ")":
                raise ValueError("Invalid filter pattern: a parenthesis is not closed")
            return inner
        selector = self._take()
        if not selector.startswith("$"):
            raise ValueError(f"Invalid filter pattern: {selector!r} is not a selector ($.field)")
        path = _path(selector)
        operator = self._take()
        if operator.upper() == "IS":
            expected = {"TRUE": True, "FALSE": False, "NULL": None}[self._take().upper()]
            return lambda event: (value := _select(event, path)) is not _MISSING and value is expected
        if operator.upper() == "EXISTS":
            return lambda event: _select(event, path) is not _MISSING
        if operator.upper() == "NOT" and self._take().upper() == "EXISTS":
            return lambda event: _select(event, path) is _MISSING
        return _comparison(path, operator, self._take())


def _path(selector: str) -> list[str | int]:
    """`$.a.b[0]` -> ["a", "b", 0]."""
    steps: list[str | int] = []
    for name, index in re.findall(r'\.([^.\[\]]+)|\[(\d+)\]', selector[1:]):
        steps.append(int(index) if index else name)
    return steps


def _select(event: Any, path: list[str | int]) -> Any:
    value = event
    for step in path:
        if isinstance(step, int):
            found = isinstance(value, list) and step < len(value)
        else:
            found = isinstance(value, dict) and step in value
        if found:
            value = value[step]
        else:
            return _MISSING
    return value


def _comparison(path: list[str | int], operator: str, literal: str) -> Callable[[Any], bool]:
    if operator not in ("=", "!=", "<", ">", "<=", ">="):
        raise ValueError(f"Invalid filter pattern: unknown operator {operator!r}")
    quoted = literal.startswith('"')
    text = _unquote(literal)
    number = None if quoted else _number(text)

    def compare(event: Any) -> bool:
        value = _select(event, path)
        if value is _MISSING or isinstance(value, (dict, list)):
            return False
        if number is not None and operator in ("<", ">", "<=", ">=", "=", "!="):
            actual = _number(value) if not isinstance(value, bool) else None
            if actual is None:
                return operator == "!="
            return {"=": actual == number, "!=": actual != number, "<": actual < number,
                    ">": actual > number, "<=": actual <= number, ">=": actual >= number}[operator]
        if operator not in ("=", "!="):
            return False  # AWS compares only numbers with < and >
        shown = json.dumps(value) if isinstance(value, bool) or value is None else str(value)
        equal = re.fullmatch(".*".join(map(re.escape, text.split("*"))), shown, re.DOTALL) is not None
        return equal if operator == "=" else not equal

    return compare


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def patch(replace: Callable[[Any, str, Any], None]) -> None:
    """moto's FilterLogEvents (and FilteredLogEvents of a log-group query) use LogFilter."""
    import moto.logs.models

    replace(moto.logs.models, "EventMessageFilter", LogFilter)
