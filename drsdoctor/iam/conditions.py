"""Condition operators as the IAM condition-operator reference documents them.

A condition block ANDs its operators and, inside an operator, its keys; the values listed for
one key are ORed. A negated operator (StringNotEquals, ArnNotLike, NotIpAddress...) is true when
the context value matches none of the values, and true when the key is absent. `...IfExists`
makes an absent key true; `ForAnyValue:` / `ForAllValues:` compare multivalued keys as sets.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

from drsdoctor.iam.matching import arn_match, compile_any_glob, has_variables, is_glob, substitute


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _date(text: str) -> float | None:
    """ISO 8601 (with or without time, `Z` or offset) or epoch seconds, as epoch seconds."""
    number = _number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@lru_cache(maxsize=4096)
def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


# A matcher factory turns the policy values of one key into "does this context value match any?"
Matcher = Callable[[str], bool]


def _ordered(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) \
        -> Callable[[tuple[str, ...]], Matcher]:
    def factory(values: tuple[str, ...]) -> Matcher:
        bounds = [bound for bound in map(parse, values) if bound is not None]

        def match(context_value: str) -> bool:
            number = parse(context_value)
            return number is not None and any(test(number, bound) for bound in bounds)

        return match

    return factory


def _string_equals(values: tuple[str, ...]) -> Matcher:
    return frozenset(values).__contains__


def _string_equals_ignore_case(values: tuple[str, ...]) -> Matcher:
    lowered = frozenset(value.lower() for value in values)
    return lambda context_value: context_value.lower() in lowered


def _string_like(values: tuple[str, ...]) -> Matcher:
    if not any(is_glob(value) for value in values):
        return frozenset(values).__contains__
    regex = compile_any_glob(values)
    return regex.matches


def _arn_like(values: tuple[str, ...]) -> Matcher:
    return lambda context_value: any(arn_match(value, context_value) for value in values)


def _ip_address(values: tuple[str, ...]) -> Matcher:
    networks = [network for network in map(_network, values) if network is not None]

    def match(context_value: str) -> bool:
        address = _ip(context_value)
        return address is not None and any(address in network for network in networks)

    return match


def _binary_equals(values: tuple[str, ...]) -> Matcher:
    wanted = {decoded for decoded in map(_base64, values) if decoded is not None}
    return lambda context_value: _base64(context_value) in wanted


_EQ, _LT, _LE = (lambda a, b: a == b), (lambda a, b: a < b), (lambda a, b: a <= b)
_GT, _GE = (lambda a, b: a > b), (lambda a, b: a >= b)


@dataclass(frozen=True)
class _Operator:
    matcher: Callable[[tuple[str, ...]], Matcher]
    negated: bool = False
    pattern: bool = False  # policy values are globs: variables keep `${*}` literal
    variables: bool = False  # policy variables allowed in values
    check: Callable[[str], bool] | None = None  # validates a policy value at parse time


def _build_operators() -> dict[str, _Operator]:
    ops: dict[str, _Operator] = {}
    for name, factory, pattern in (("StringEquals", _string_equals, False),
                                   ("StringEqualsIgnoreCase", _string_equals_ignore_case, False),
                                   ("StringLike", _string_like, True)):
        ops[name] = _Operator(factory, pattern=pattern, variables=True)
        ops[name.replace("String", "StringNot", 1)] = _Operator(factory, True, pattern, True)
    # ArnEquals and ArnLike behave identically: both match segment-wise with wildcards
    for name in ("ArnEquals", "ArnLike"):
        ops[name] = _Operator(_arn_like, pattern=True, variables=True)
        ops[name.replace("Arn", "ArnNot", 1)] = _Operator(_arn_like, True, True, True)
    valid_number: Callable[[str], bool] = lambda v: _number(v) is not None  # noqa: E731
    valid_date: Callable[[str], bool] = lambda v: _date(v) is not None  # noqa: E731
    for suffix, test in (("Equals", _EQ), ("LessThan", _LT), ("LessThanEquals", _LE),
                         ("GreaterThan", _GT), ("GreaterThanEquals", _GE)):
        ops["Numeric" + suffix] = _Operator(_ordered(_number, test), check=valid_number)
        ops["Date" + suffix] = _Operator(_ordered(_date, test), check=valid_date)
    ops["NumericNotEquals"] = _Operator(_ordered(_number, _EQ), negated=True, check=valid_number)
    ops["DateNotEquals"] = _Operator(_ordered(_date, _EQ), negated=True, check=valid_date)
    ops["Bool"] = _Operator(_string_equals_ignore_case, variables=True)
    ops["BinaryEquals"] = _Operator(_binary_equals, check=lambda v: _base64(v) is not None)
    ops["IpAddress"] = _Operator(_ip_address, check=lambda v: _network(v) is not None)
    ops["NotIpAddress"] = _Operator(_ip_address, negated=True, check=lambda v: _network(v) is not None)
    return ops


OPERATORS = _build_operators()
_BY_LOWER = {name.lower(): name for name in [*OPERATORS, "Null"]}
SET_PREFIXES = {"foranyvalue": "ForAnyValue", "forallvalues": "ForAllValues"}


class ConditionSyntaxError(ValueError):
    """An unknown operator or a value the operator cannot read; the parser adds where it was."""


Context = Mapping[str, list[str]]


@dataclass(frozen=True)
class ConditionTest:
    """One operator applied to one key with its values, compiled from a Condition block."""

    operator: str  # as written in the policy
    key: str  # as written in the policy
    values: tuple[str, ...]
    base: str  # canonical operator without set prefix or IfExists
    set_operator: str | None
    if_exists: bool
    policy_variables: bool  # Version 2012-10-17: `${...}` in values are variables
    evaluate: Callable[[Context], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # compiled once: the sandbox evaluates these on every call it authorises
        object.__setattr__(self, "evaluate", self._compile())

    def _compile(self) -> Callable[[Context], bool]:
        """`evaluate(context)`: True when the condition holds; raises MissingVariable when a
        value's variable names an absent key."""
        key = self.key.lower()
        if self.base == "Null":
            when_absent = any(value.lower() == "true" for value in self.values)
            when_present = any(value.lower() != "true" for value in self.values)
            return lambda context: when_present if context.get(key) else when_absent
        operator = OPERATORS[self.base]
        negated, set_operator, if_exists = operator.negated, self.set_operator, self.if_exists
        dynamic = operator.variables and self.policy_variables and any(map(has_variables, self.values))
        static = None if dynamic else operator.matcher(self.values)
        values, pattern = self.values, operator.pattern
        absent = True if if_exists or set_operator == "ForAllValues" else \
            False if set_operator == "ForAnyValue" else negated

        def evaluate(context: Context) -> bool:
            present = context.get(key)
            if not present:
                return absent
            match = static or operator.matcher(tuple(
                substitute(value, context, as_pattern=pattern) if has_variables(value) else value
                for value in values))
            if set_operator == "ForAllValues":
                return all(match(item) != negated for item in present)
            if set_operator == "ForAnyValue":
                return any(match(item) != negated for item in present)
            return any(map(match, present)) != negated

        return evaluate


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ConditionSyntaxError(f"value {value!r} must be a string, number or boolean")


def _valid_null(value: str) -> bool:
    return value.lower() in ("true", "false")


def compile_block(block: object, policy_variables: bool) -> tuple[ConditionTest, ...]:
    """A statement's Condition element as a tuple of tests, all of which must hold."""
    if not isinstance(block, Mapping):
        raise ConditionSyntaxError("must be an object of condition operators")
    tests: list[ConditionTest] = []
    for written, keys in block.items():
        prefix, _, rest = str(written).rpartition(":")
        set_operator = SET_PREFIXES.get(prefix.lower()) if prefix else None
        if prefix and set_operator is None:
            raise ConditionSyntaxError(f"unknown set operator {prefix!r} in {written!r}")
        if_exists = rest.lower().endswith("ifexists") and rest.lower() != "ifexists"
        base = _BY_LOWER.get((rest[: -len("IfExists")] if if_exists else rest).lower())
        if base is None or (if_exists and base == "Null"):
            raise ConditionSyntaxError(f"unknown condition operator {written!r}")
        if not isinstance(keys, Mapping) or not keys:
            raise ConditionSyntaxError(f"operator {written!r} must map condition keys to values")
        for key, raw in keys.items():
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise ConditionSyntaxError(f"{written} key {key!r} has no values")
            values = tuple(_text(item) for item in items)
            check = OPERATORS[base].check if base != "Null" else _valid_null
            bad = [value for value in values if check and not check(value)]
            if bad:
                raise ConditionSyntaxError(f"{written} key {key!r}: {bad[0]!r} is not a valid value")
            tests.append(ConditionTest(str(written), str(key), values, base, set_operator, if_exists,
                                       policy_variables))
    return tuple(tests)
