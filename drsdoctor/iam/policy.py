"""IAM policy documents: parsed once into statements that know how to match a request.

Covers identity, resource, permissions-boundary, SCP and session policies: Statement as object or
list, Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition, Sid.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from drsdoctor.errors import InputError
from drsdoctor.iam.conditions import ConditionSyntaxError, ConditionTest, compile_block
from drsdoctor.iam.jsonlines import LineDict, loads_with_lines
from drsdoctor.iam.matching import (
    arn_match,
    compile_any_glob,
    has_variables,
    is_glob,
    required_keys,
    substitute,
    variable_keys,
)

KINDS = ("identity", "resource", "boundary", "scp", "session")
VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_FIELDS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                     "NotPrincipal", "Condition"}


class PolicyError(InputError):
    """A malformed policy: names the policy, the statement (Sid or index), the field and the line."""

    def __init__(self, policy: str, message: str, statement: str | None = None, field: str | None = None,
                 line: int | None = None) -> None:
        self.policy, self.statement, self.field, self.line = policy, statement, field, line
        where = policy + (f" line {line}" if line else "")
        parts = [f"statement {statement}"] if statement else []
        parts += [f"field {field}"] if field else []
        super().__init__(f"{where}: {', '.join(parts) + ': ' if parts else ''}{message}")


def _strings(value: Any) -> tuple[str, ...] | None:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        return None
    return tuple(items)


@dataclass(frozen=True)
class Principals:
    """A Principal element: `*` or a map of kind (AWS, Service, Federated) to identifiers."""

    anyone: bool
    by_kind: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def matches(self, principal: str | None) -> bool:
        if self.anyone:
            return True
        if principal is None:
            return False
        for kind, names in self.by_kind:
            for name in names:
                if name == "*" or name == principal:
                    return True
                # an account id or its root ARN stands for every principal of that account
                is_root = name.startswith("arn:") and name.endswith(":root")
                account = "".join(name.split(":")[4:5]) if is_root else name
                if kind == "AWS" and account.isdigit() and principal.split(":")[4:5] == [account]:
                    return True
        return False


@dataclass(eq=False)
class Statement:
    """One statement; `label` is its Sid, or its index in brackets when it has none."""

    policy: Policy
    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: Principals | None
    not_principals: Principals | None
    conditions: tuple[ConditionTest, ...]
    line: int | None = None
    column: int | None = None
    # situation number -> (holds, missed context keys, is an Allow), kept by the evaluator
    remembered: dict[int, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"[{self.index}]"

    def applies_to_action(self, action: str) -> bool:
        return self.action_test(action)

    @cached_property
    def action_test(self) -> Callable[[str], bool]:
        """Action/NotAction as one compiled, case-insensitive matcher."""
        patterns = self.actions if self.actions is not None else self.not_actions or ()
        negate = self.actions is None
        if "*" in patterns:
            return lambda action: not negate
        regex = compile_any_glob(tuple(patterns), True)
        return lambda action: regex.matches(action) != negate

    @cached_property
    def resource_test(self) -> Callable[[str, Mapping[str, list[str]]], bool]:
        """Resource/NotResource against a resource ARN; raises MissingVariable for an unknown variable."""
        patterns = self.resources if self.resources is not None else self.not_resources or ()
        negate = self.resources is None
        dynamic = [p for p in patterns if self.policy.policy_variables and has_variables(p)]
        static = [p for p in patterns if p not in dynamic]
        if "*" in static:
            return lambda resource, context: not negate
        exact = frozenset(p for p in static if not is_glob(p))
        globs = [p for p in static if is_glob(p)]

        needs = [(pattern, required_keys(pattern)) for pattern in dynamic]

        def test(resource: str, context: Mapping[str, list[str]]) -> bool:
            if resource in exact or any(arn_match(p, resource) for p in globs):
                return not negate
            for pattern, keys in needs:
                if not negate and not all(key in context for key in keys):
                    continue  # cannot match; the statement's context_keys report what is missing
                if arn_match(substitute(pattern, context, as_pattern=True), resource):
                    return not negate
            return negate

        return test

    @cached_property
    def context_keys(self) -> tuple[str, ...]:
        """Context keys the statement reads (conditions and policy variables), for MissingContextValues."""
        keys = [test.key for test in self.conditions]
        if self.policy.policy_variables:
            for pattern in (self.resources or ()) + (self.not_resources or ()):
                keys += variable_keys(pattern)
            for test in self.conditions:
                for value in test.values:
                    keys += variable_keys(value)
        return tuple(keys)

    @cached_property
    def resource_variable_keys(self) -> tuple[tuple[str, str], ...]:
        """(key, lower-cased key) of the variables in Resource/NotResource."""
        if not self.policy.policy_variables:
            return ()
        patterns = (self.resources or ()) + (self.not_resources or ())
        return tuple((key, key.lower()) for pattern in patterns for key in variable_keys(pattern))

    @cached_property
    def context_keys_lower(self) -> tuple[tuple[str, str], ...]:
        return tuple((key, key.lower()) for key in self.context_keys)


@dataclass(eq=False)
class Policy:
    """A parsed policy; `source_type` is what SimulatePrincipalPolicy calls SourcePolicyType."""

    name: str
    kind: str
    version: str | None
    statements: list[Statement] = field(default_factory=list)
    source_type: str = "IAM Policy"
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _by_action: dict[str, tuple[Statement, ...]] = field(default_factory=dict, repr=False)

    @property
    def policy_variables(self) -> bool:
        # variables only exist in the 2012-10-17 language; older documents keep `${...}` literal
        return self.version == "2012-10-17"

    def statements_for(self, action: str, lowered: str | None = None) -> tuple[Statement, ...]:
        """Statements whose Action/NotAction covers the action, memoised (a policy never changes)."""
        key = lowered or action.lower()
        found = self._by_action.get(key)
        if found is None:
            exact, scanned = self._action_index
            hits = set(exact.get(key, ())) | {i for i in scanned if self.statements[i].action_test(action)}
            found = tuple(self.statements[i] for i in sorted(hits))
            self._by_action[key] = found
        return found

    @cached_property
    def _action_index(self) -> tuple[dict[str, list[int]], list[int]]:
        # plain action names are looked up; only wildcard and NotAction statements are scanned
        exact: dict[str, list[int]] = {}
        scanned: list[int] = []
        for i, statement in enumerate(self.statements):
            if statement.actions is not None and not any(map(is_glob, statement.actions)):
                for action in statement.actions:
                    exact.setdefault(action.lower(), []).append(i)
            else:
                scanned.append(i)
        return exact, scanned


# parsed policies by (document, name, kind, source type): a role's policies are parsed once however
# often the sandbox or diagnose asks; a Policy is never changed after parsing, so sharing is safe
_PARSED: dict[tuple[str, str, str, str], Policy] = {}
_PARSED_MAX = 1024


def clear_parse_cache() -> None:
    _PARSED.clear()


def parse_policy(document: str | Mapping[str, Any], name: str = "policy", kind: str = "identity",
                 source_type: str | None = None) -> Policy:
    """Parse a policy document (JSON text or a mapping); raises PolicyError naming what is wrong.

    `source_type` is SimulatePrincipalPolicy's SourcePolicyType (role, user-managed, aws-managed...).
    """
    if kind not in KINDS:
        raise InputError(f"unknown policy kind {kind!r} (one of {', '.join(KINDS)})")
    source_type = source_type or ("resource" if kind == "resource" else "IAM Policy")
    try:
        text = document if isinstance(document, str) else json.dumps(document, sort_keys=True)
    except (TypeError, ValueError, RecursionError):  # not JSON-shaped: parse it (and fail) without caching
        return _parse(document, name, kind, source_type)
    key = (text, name, kind, source_type)
    cached = _PARSED.get(key)
    if cached is None:
        cached = _parse(document, name, kind, source_type)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = cached
    return cached


def _parse(document: Any, name: str, kind: str, source_type: str) -> Policy:
    if isinstance(document, str):
        try:
            parsed: Any = loads_with_lines(document)
        except json.JSONDecodeError as error:
            raise PolicyError(name, f"not valid JSON: {error.msg} (column {error.colno})",
                              line=error.lineno) from None
        except ValueError as error:  # json's own limits: a number of more than 4300 digits
            raise PolicyError(name, f"not valid JSON: {str(error).split(':')[0]}") from None
        except RecursionError:
            raise PolicyError(name, "not valid JSON: nested too deeply to be a policy") from None
    else:
        parsed = document
    if not isinstance(parsed, Mapping):
        raise PolicyError(name, "a policy document must be a JSON object")
    unknown = set(parsed) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(name, f"unknown top-level element {sorted(map(str, unknown))[0]!r}")
    version = parsed.get("Version")
    if version is not None and version not in VERSIONS:
        raise PolicyError(name, f"Version must be one of {', '.join(VERSIONS)}, not {version!r}",
                          field="Version", line=_line(parsed, "Version"))
    if "Statement" not in parsed:
        raise PolicyError(name, "the policy has no Statement", field="Statement")
    raw = parsed["Statement"]
    raw_statements = raw if isinstance(raw, list) else [raw]
    policy = Policy(name=name, kind=kind, version=version, document=parsed, source_type=source_type)
    for index, raw_statement in enumerate(raw_statements):
        policy.statements.append(_parse_statement(policy, index, raw_statement))
    return policy


def load_policy_file(path: str | Path, kind: str = "identity") -> Policy:
    """Read a JSON policy file; errors carry the file name and the line."""
    from drsdoctor.inputfile import POLICY_LIMIT, read_bounded

    text = read_bounded(path, "policy", POLICY_LIMIT)
    return parse_policy(text, name=str(path), kind=kind)


def _line(node: Any, key: str | None = None) -> int | None:
    if isinstance(node, LineDict):
        return node.key_lines.get(key, node.line) if key else node.line
    return None


def _parse_statement(policy: Policy, index: int, raw: Any) -> Statement:
    label = f"[{index}]"
    if not isinstance(raw, Mapping):
        raise PolicyError(policy.name, "a statement must be a JSON object", statement=label)
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(policy.name, "Sid must be a string", statement=label, field="Sid",
                          line=_line(raw, "Sid"))
    label = sid or label

    def fail(message: str, field_name: str | None = None) -> PolicyError:
        return PolicyError(policy.name, message, statement=label, field=field_name,
                           line=_line(raw, field_name))

    unknown = set(raw) - _STATEMENT_FIELDS
    if unknown:
        name = sorted(map(str, unknown))[0]
        raise fail(f"unknown element {name!r}", name)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise fail(f"Effect must be \"Allow\" or \"Deny\", not {effect!r}", "Effect")
    actions = _pair(raw, "Action", "NotAction", fail)
    for pattern in actions[0] or actions[1] or ():
        if pattern != "*" and (":" not in pattern or pattern.startswith(":") or pattern.endswith(":")):
            raise fail(f"{pattern!r} is not an action (service:Action, or *)",
                       "Action" if actions[0] is not None else "NotAction")
    resources = _pair(raw, "Resource", "NotResource", fail)
    principals = _principal(raw, "Principal", fail)
    not_principals = _principal(raw, "NotPrincipal", fail)
    if policy.kind in ("identity", "boundary", "session", "scp") and (principals or not_principals):
        raise fail(f"a {policy.kind} policy cannot name a principal",
                   "Principal" if principals else "NotPrincipal")
    if policy.kind == "resource" and not (principals or not_principals):
        raise fail("a resource-based policy statement needs Principal or NotPrincipal", "Principal")
    conditions: tuple[ConditionTest, ...] = ()
    if "Condition" in raw:
        try:
            conditions = compile_block(raw["Condition"], policy.version == "2012-10-17")
        except ConditionSyntaxError as error:
            raise fail(str(error), "Condition") from None
    return Statement(policy, index, sid, effect, actions[0], actions[1], resources[0], resources[1],
                     principals, not_principals, conditions, line=_line(raw),
                     column=raw.column if isinstance(raw, LineDict) else None)


def _pair(raw: Mapping[str, Any], positive: str, negative: str,
          fail: Any) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    has_positive, has_negative = positive in raw, negative in raw
    if has_positive and has_negative:
        raise fail(f"use {positive} or {negative}, not both", negative)
    if not (has_positive or has_negative):
        raise fail(f"the statement needs {positive} or {negative}", positive)
    name = positive if has_positive else negative
    values = _strings(raw[name])
    if values is None:
        raise fail("must be a non-empty string or a list of non-empty strings", name)
    return (values, None) if has_positive else (None, values)


def _principal(raw: Mapping[str, Any], name: str, fail: Any) -> Principals | None:
    if name not in raw:
        return None
    value = raw[name]
    if value == "*":
        return Principals(anyone=True)
    if not isinstance(value, Mapping) or not value:
        raise fail('must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}', name)
    by_kind = []
    for kind, names in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise fail(f"unknown principal type {kind!r}", name)
        strings = _strings(names)
        if strings is None:
            raise fail(f"{kind} must be a string or a list of strings", name)
        by_kind.append((kind, strings))
    anyone = any(kind == "AWS" and "*" in names for kind, names in by_kind)
    return Principals(anyone=anyone, by_kind=tuple(by_kind))
