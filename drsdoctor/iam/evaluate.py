"""Policy evaluation logic for one account, as AWS documents it.

An explicit Deny in any policy wins. Otherwise, when SCPs are present an SCP must allow; when a
permissions boundary is present it must allow; when a session policy is present it must allow;
then an identity-based or a resource-based Allow allows. Anything else is an implicit deny.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from drsdoctor.errors import InputError
from drsdoctor.iam.matching import MissingVariable
from drsdoctor.iam.policy import Policy, Statement

EvalDecision = Literal["allowed", "explicitDeny", "implicitDeny"]
ContextValue = str | list[str]


@dataclass
class Request:
    """One call to authorise: the action, the resource ARN (or `*`), and the request context."""

    action: str
    resource: str = "*"
    context: dict[str, ContextValue] = field(default_factory=dict)
    principal: str | None = None  # the caller's ARN, matched against resource policies' Principal

    def normalised_context(self) -> dict[str, list[str]]:
        """Context keys are case-insensitive; each value becomes a list of strings."""
        normal: dict[str, list[str]] = {}
        for key, value in self.context.items():
            normal[key.lower()] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        if self.principal and "aws:principalarn" not in normal:
            normal["aws:principalarn"] = [self.principal]
        return normal


_MEMOS_PER_ROLE = 256


@dataclass
class PolicySet:
    """Every policy that applies to one principal's request, by the role each plays in evaluation."""

    identity: list[Policy] = field(default_factory=list)
    resource: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None
    scps: list[Policy] = field(default_factory=list)
    session: Policy | None = None
    # (resource, caller, context) -> which statements hold: a statement's verdict depends on nothing
    # else, so the sandbox authorising call after call for one role works each statement out once
    _memos: dict[Any, dict[Any, Any]] = field(default_factory=dict, repr=False, compare=False)

    def memo_for(self, resource: str, principal: str | None,
                 context: dict[str, list[str]]) -> dict[Any, Any]:
        key = (resource, principal, tuple(sorted((k, tuple(v)) for k, v in context.items())))
        memo = self._memos.get(key)
        if memo is None:
            if len(self._memos) >= _MEMOS_PER_ROLE:
                self._memos.clear()
            memo = self._memos[key] = {}
        return memo

    def all_policies(self) -> list[Policy]:
        extra = [p for p in (self.boundary, self.session) if p is not None]
        return [*self.identity, *self.resource, *extra, *self.scps]


@dataclass
class MatchedStatement:
    """A statement that decided the outcome: which policy, which Sid or index, where in the file."""

    policy: str
    policy_type: str
    kind: str
    statement: str
    effect: str
    line: int | None = None
    column: int | None = None

    def to_aws_json(self) -> dict[str, Any]:
        matched: dict[str, Any] = {"SourcePolicyId": self.policy, "SourcePolicyType": self.policy_type,
                                   "StatementId": self.statement}
        if self.line is not None:
            matched["StartPosition"] = {"Line": self.line, "Column": self.column or 1}
        return matched


@dataclass
class Decision:
    """One action on one resource, in SimulatePrincipalPolicy's terms."""

    action: str
    resource: str
    decision: EvalDecision
    matched_statements: list[MatchedStatement] = field(default_factory=list)
    missing_context_values: list[str] = field(default_factory=list)
    boundary_decision: EvalDecision | None = None
    organizations_decision: EvalDecision | None = None
    engine: str = "local"

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    def to_aws_json(self) -> dict[str, Any]:
        """An EvaluationResults item, field names exactly as SimulatePrincipalPolicy returns them."""
        result: dict[str, Any] = {
            "EvalActionName": self.action,
            "EvalResourceName": self.resource,
            "EvalDecision": self.decision,
            "MatchedStatements": [m.to_aws_json() for m in self.matched_statements],
            "MissingContextValues": list(self.missing_context_values),
        }
        if self.boundary_decision is not None:
            result["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": self.boundary_decision == "allowed"}
        if self.organizations_decision is not None:
            result["OrganizationsDecisionDetail"] = {
                "AllowedByOrganizations": self.organizations_decision == "allowed"}
        return result


def _principal_applies(statement: Statement, principal: str | None) -> bool:
    if statement.principals is not None:
        return statement.principals.matches(principal)
    if statement.not_principals is not None:
        return not statement.not_principals.matches(principal)
    return True


def _matched(statement: Statement) -> MatchedStatement:
    policy = statement.policy
    return MatchedStatement(policy.name, policy.source_type, policy.kind, statement.label, statement.effect,
                            statement.line, statement.column)


_GUARDS = ("boundary", "session", "scps")  # each, when present, must allow as well


class _Evaluation:
    """One resource, context and caller, decided for any number of actions.

    Whether a statement's resource, principal and conditions hold does not depend on the action,
    so a role check works each statement out once, however many actions it covers.
    """

    def __init__(self, policies: PolicySet, resource: str, context: dict[str, list[str]],
                 principal: str | None) -> None:
        self.resource, self.context, self.principal = resource, context, principal
        groups = [("identity", policies.identity), ("resource", policies.resource),
                  ("boundary", [policies.boundary] if policies.boundary else []),
                  ("session", [policies.session] if policies.session else []), ("scps", policies.scps)]
        self.groups = [(name, group) for name, group in groups if group]
        self.present = {name for name, _ in self.groups}
        # statement -> (holds, missed context keys, is an Allow)
        self.memo: dict[Statement, tuple[bool, tuple[str, ...], bool]] = policies.memo_for(
            resource, principal, context)
        self.matched: dict[Statement, MatchedStatement] = {}

    def _holds(self, statement: Statement) -> tuple[bool, tuple[str, ...], bool]:
        """Does the statement apply (action aside), and which context keys it missed."""
        context = self.context
        missing: tuple[str, ...] = ()
        try:
            holds = statement.resource_test(self.resource, context) \
                and _principal_applies(statement, self.principal)
            if holds:
                missing = tuple(key for key, lower in statement.context_keys_lower if lower not in context)
                holds = all(test.evaluate(context) for test in statement.conditions)
        except MissingVariable as unknown:
            # AWS: a variable whose key is absent makes the element not match
            holds, missing = False, (*missing, unknown.key)
        self.memo[statement] = result = (holds, missing, statement.effect == "Allow")
        return result

    def _match(self, statements: list[Statement]) -> list[MatchedStatement]:
        matched = self.matched
        return [matched.get(s) or matched.setdefault(s, _matched(s)) for s in statements]

    def decide(self, action: str) -> Decision:
        if ":" not in action:
            raise InputError(f"{action!r} is not an action (service:Action)")
        memo, missing, lowered = self.memo, dict[str, None](), action.lower()
        allows: dict[str, list[Statement]] = {}
        denies: list[Statement] = []
        for name, group in self.groups:
            allowed = allows[name] = []
            for policy in group:
                for statement in policy.statements_for(action, lowered):
                    holds, missed, allow = memo.get(statement) or self._holds(statement)
                    if missed:
                        missing.update(dict.fromkeys(missed))
                    if holds:
                        (allowed if allow else denies).append(statement)
        denied_in = {statement.policy.kind for statement in denies}

        def verdict(name: str, kind: str) -> EvalDecision | None:
            if name not in self.present:
                return None
            return "explicitDeny" if kind in denied_in else "allowed" if allows[name] else "implicitDeny"

        decision = Decision(action, self.resource, "implicitDeny", missing_context_values=list(missing),
                            boundary_decision=verdict("boundary", "boundary"),
                            organizations_decision=verdict("scps", "scp"))
        if denies:
            decision.decision = "explicitDeny"
            decision.matched_statements = self._match(denies)
        elif all(allows[guard] for guard in _GUARDS if guard in self.present):
            granted = allows.get("identity", []) + allows.get("resource", [])
            if granted:
                decision.decision = "allowed"
                decision.matched_statements = self._match(granted)
        return decision


def evaluate(policies: PolicySet, request: Request) -> Decision:
    """Decide one request against a principal's policies the way AWS does for one account."""
    evaluation = _Evaluation(policies, request.resource, request.normalised_context(), request.principal)
    return evaluation.decide(request.action)


def evaluate_all(policies: PolicySet, actions: Iterable[str], resource: str = "*",
                 context: dict[str, ContextValue] | None = None,
                 principal: str | None = None) -> list[Decision]:
    """Every action against one resource and context, in the order given (a whole role check)."""
    normal = Request("-:-", resource, dict(context or {}), principal).normalised_context()
    evaluation = _Evaluation(policies, resource, normal, principal)
    return [evaluation.decide(action) for action in actions]
