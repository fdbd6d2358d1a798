"""IAM changes per role: statements compared as sets, and the effective change as actions gained and lost.

Order of statements and their Sids never matter. The effective change is judged with the
project's evaluator: each action a statement on either side covers (wildcards expanded against
the services an orchestrator touches) is evaluated on each resource either side names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from drsdoctor.diff.model import Change
from drsdoctor.errors import InputError

# a lost action from these services stops a recovery; other losses are medium
CRITICAL_SERVICES = ("drs", "ec2", "dynamodb", "lambda", "states", "events", "iam")
BROAD_ACTIONS = ("iam:passrole", "iam:*", "sts:assumerole")

PolicyDocs = list[tuple[str, Any]]  # (policy name, document) as attached to one role


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def canonical_statement(statement: Mapping[str, Any]) -> str:
    """A statement without its Sid, lists sorted, actions lower-cased: equal statements give equal keys."""
    canonical: dict[str, Any] = {}
    for key in (
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    ):
        if key not in statement:
            continue
        value = statement[key]
        if key in ("Action", "NotAction"):
            value = sorted({str(a).lower() for a in _as_list(value)})
        elif key in ("Resource", "NotResource"):
            value = sorted({str(r) for r in _as_list(value)})
        canonical[key] = value
    return json.dumps(canonical, sort_keys=True, default=str)


def statements_of(policies: PolicyDocs) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Canonical key -> (policy name, statement) over every policy of a role."""
    found: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for name, document in policies:
        if not isinstance(document, Mapping):
            continue
        for statement in _as_list(document.get("Statement")):
            if isinstance(statement, Mapping):
                found.setdefault(canonical_statement(statement), (name, statement))
    return found


def describe_statement(statement: Mapping[str, Any]) -> str:
    actions = _as_list(statement.get("Action")) or [f"NOT {a}" for a in _as_list(statement.get("NotAction"))]
    resources = _as_list(statement.get("Resource")) or [
        f"NOT {r}" for r in _as_list(statement.get("NotResource"))
    ]
    condition = " (with Condition)" if statement.get("Condition") else ""
    return (
        f"{statement.get('Effect', '?')} {', '.join(map(str, actions))} on {', '.join(map(str, resources))}"
        f"{condition}"
    )


def diff_role_permissions(role: str, role_type: str, before: PolicyDocs, after: PolicyDocs) -> list[Change]:
    """Statement changes (for the IAM table) and the effective change: lost actions first."""
    old, new = statements_of(before), statements_of(after)
    if old.keys() == new.keys():
        return []
    # only actions a changed statement covers can change: the rest need no evaluation
    touched: set[str] = set()
    for key in old.keys() ^ new.keys():
        touched |= _covered_actions((old.get(key) or new[key])[1])
    effective = _effective_changes(
        role, role_type, [s for _, s in old.values()], [s for _, s in new.values()], touched
    )
    gains = any(c.kind == "added" for c in effective)
    changes = []
    for key in sorted(old.keys() - new.keys()):
        name, statement = old[key]
        note = " (broadening: a Deny is gone)" if statement.get("Effect") == "Deny" and gains else ""
        changes.append(_statement_change(role, role_type, "removed", name, statement, note))
    for key in sorted(new.keys() - old.keys()):
        name, statement = new[key]
        # a broad statement that replaces one as broad grants nothing new: only real gains are flagged
        note = (
            " (broadening)" if statement.get("Effect") == "Allow" and _is_broad(statement) and gains else ""
        )
        changes.append(_statement_change(role, role_type, "added", name, statement, note))
    changes.extend(effective)
    return changes


def _statement_change(
    role: str, role_type: str, kind: str, policy: str, statement: Mapping[str, Any], note: str
) -> Change:
    before, after = (dict(statement), None) if kind == "removed" else (None, dict(statement))
    summary = f"{role}: statement {kind}: {describe_statement(statement)}{note}"
    return Change(
        role, role_type, kind, "iam", f"Policies.{policy}.Statement", before, after, "medium", summary
    )


def _is_broad(statement: Mapping[str, Any]) -> bool:
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
    resources = [str(r) for r in _as_list(statement.get("Resource"))]
    return (
        "NotAction" in statement
        or any(a == "*" or a.endswith(":*") or a in BROAD_ACTIONS for a in actions)
        or "*" in resources
    )


def _effective_changes(
    role: str,
    role_type: str,
    old: list[Mapping[str, Any]],
    new: list[Mapping[str, Any]],
    touched: set[str],
) -> list[Change]:
    old_policy, new_policy = _policy(old), _policy(new)
    if old_policy is None or new_policy is None:
        return []
    lost: dict[str, list[str]] = {}
    gained: dict[str, list[str]] = {}
    old_allowed = _grants(old_policy, old + new, touched)
    new_allowed = _grants(new_policy, old + new, touched)
    for action in sorted(old_allowed.keys() | new_allowed.keys()):
        before, after = old_allowed.get(action, set()), new_allowed.get(action, set())
        if before - after:
            lost[action] = sorted(before - after)
        if after - before:
            gained[action] = sorted(after - before)
    changes = []
    whole_loss = [a for a in lost if not new_allowed.get(a)]
    narrowed = [a for a in lost if new_allowed.get(a)]
    if whole_loss:
        risk = "high" if any(a.split(":")[0] in CRITICAL_SERVICES for a in whole_loss) else "medium"
        changes.append(
            Change(
                role,
                role_type,
                "removed",
                "iam",
                "EffectivePermissions",
                {a: lost[a] for a in whole_loss},
                None,
                risk,
                f"{role} loses {_action_list(whole_loss)}",
            )
        )
    if narrowed:
        changes.append(
            Change(
                role,
                role_type,
                "modified",
                "iam",
                "EffectivePermissions",
                {a: lost[a] for a in narrowed},
                {a: sorted(new_allowed[a]) for a in narrowed},
                "high" if any(a.split(":")[0] in CRITICAL_SERVICES for a in narrowed) else "medium",
                f"{role} keeps {_action_list(narrowed)} on fewer resources",
            )
        )
    if gained:
        changes.append(
            Change(
                role,
                role_type,
                "added",
                "iam",
                "EffectivePermissions",
                None,
                gained,
                "medium",
                f"{role} gains {_action_list(list(gained))} (broadening)",
            )
        )
    return changes


def _action_list(actions: list[str], limit: int = 6) -> str:
    shown = ", ".join(actions[:limit])
    return shown + (f" and {len(actions) - limit} more" if len(actions) > limit else "")


def _policy(statements: list[Mapping[str, Any]]) -> Any:
    from drsdoctor.iam.policy import parse_policy

    document = {"Version": "2012-10-17", "Statement": [_escaped(s) for s in statements]}
    try:
        return parse_policy(document, "role")
    except InputError:
        return None  # a statement IAM would reject: the statement table still shows it


def _escaped(statement: Mapping[str, Any]) -> dict[str, Any]:
    # our ${AWS::Region}-style tokens are not IAM policy variables; keep them literal for the evaluator
    text = json.dumps({k: v for k, v in statement.items() if k != "Sid"}, default=str)
    escaped: dict[str, Any] = json.loads(text.replace("${", "%{"))
    return escaped


def _grants(policy: Any, statements: Iterable[Mapping[str, Any]], touched: set[str]) -> dict[str, set[str]]:
    """action -> resources it is allowed on, over the actions and resources either side names."""
    from drsdoctor.iam.evaluate import PolicySet, Request, evaluate

    candidates: dict[str, set[str]] = {}
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        resources = {str(r).replace("${", "%{") for r in _as_list(statement.get("Resource"))} or {"*"}
        for action in _covered_actions(statement) & touched:
            candidates.setdefault(action, set()).update(resources)
    policies = PolicySet(identity=[policy])
    allowed: dict[str, set[str]] = {}
    for action, resources in candidates.items():
        for resource in resources:
            if evaluate(policies, Request(action, resource)).allowed:
                allowed.setdefault(action, set()).add(resource.replace("%{", "${"))
    return allowed


def _covered_actions(statement: Mapping[str, Any]) -> set[str]:
    if "NotAction" in statement:
        excluded = tuple(str(a) for a in _as_list(statement["NotAction"]))
        return {a for a in _expand("*") if not any(_action_match(p, a) for p in excluded)}
    covered: set[str] = set()
    for pattern in _as_list(statement.get("Action")):
        covered |= _expand(str(pattern))
    return covered


@lru_cache(maxsize=4096)
def _expand(pattern: str) -> frozenset[str]:
    from drsdoctor.iam.actions import expand_action_pattern

    expanded = expand_action_pattern(pattern)
    if not expanded and "*" not in pattern and "?" not in pattern:
        return frozenset({pattern})  # a service we hold no list for: the action stands for itself
    return frozenset(expanded)


def _action_match(pattern: str, action: str) -> bool:
    from drsdoctor.iam.matching import action_match

    return action_match(pattern, action)
