"""A role's trust policy: who may assume it (sts:AssumeRole), decided by drsdoctor's evaluator.

A trust policy is a resource policy on the role without a Resource element: each statement is read as if it
named the role. A principal matches by its role ARN, by its account (an account id or the account's root ARN),
or by `*`; a trust policy allows only; its conditions are evaluated with the context given.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from drsdoctor.iam.evaluate import ContextValue, PolicySet, Request, evaluate
from drsdoctor.iam.policy import parse_policy


@dataclass(frozen=True)
class TrustDecision:
    decision: str  # allowed | explicitDeny | implicitDeny
    reason: str  # the statement that decided, or why none matched
    names_principal: bool  # the role ARN itself is named (not only its account)

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


def trust_allows(document: str | dict[str, Any], role_arn: str, principal_arn: str,
                 context: dict[str, ContextValue] | None = None) -> TrustDecision:
    """Whether the trust policy of `role_arn` lets `principal_arn` (a role ARN) call sts:AssumeRole on it.
    Raises PolicyError for a document that is not a policy."""
    raw = json.loads(document) if isinstance(document, str) else copy.deepcopy(document)
    statements = raw.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and "Resource" not in statement and "NotResource" not in statement:
            statement["Resource"] = role_arn
    policy = parse_policy(raw, name="trust policy", kind="resource")
    found = evaluate(PolicySet(resource=[policy]),
                     Request("sts:AssumeRole", role_arn, dict(context or {}), principal=principal_arn))
    named = any(principal_arn in names for statement in policy.statements if statement.principals is not None
                for _, names in statement.principals.by_kind)
    matched = "; ".join(f"{m.policy} {m.statement}".strip() for m in found.matched_statements)
    reason = matched or "no statement of the trust policy names this principal or its account"
    return TrustDecision(found.decision, reason, named)


def principals_named(document: str | dict[str, Any]) -> list[str]:
    """The AWS principals an Allow statement of the trust policy names (ARNs or account ids), for a report."""
    raw = json.loads(document) if isinstance(document, str) else document
    statements = raw.get("Statement", [])
    names: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if principal == "*":
            names.append("*")
        elif isinstance(principal, dict):
            for kind, value in principal.items():
                values = value if isinstance(value, list) else [value]
                names += [str(item) if kind == "AWS" else f"{kind}:{item}" for item in values]
    return names
