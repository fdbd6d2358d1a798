"""Policy evaluation logic for one account, as AWS documents it.

An explicit Deny in any policy wins. Otherwise, when SCPs are present an SCP must allow; when a
permissions boundary is present it must allow; when a session policy is present it must allow;
then an identity-based or a resource-based Allow allows. Anything else is an implicit deny.
A resource-based policy is taken as naming the role (not a role session), so the boundary and
session policy limit it too; SCPs given together are taken as attached at one level.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import itertools
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


_SITUATIONS: dict[tuple[Any, ...], int] = {}  # (resource, caller, context) -> a never-reused number
_NEXT_SITUATION = itertools.count(1)
_REMEMBERED_PER_STATEMENT = 64


def _situation(resource: str, principal: str | None, context: dict[str, list[str]]) -> int:
    """A small number standing for one (resource, caller, context): cheap to hash on every lookup."""
    key = (resource, principal, tuple(sorted((k, tuple(v)) for k, v in context.items())))
    number = _SITUATIONS.get(key)
    if number is None:
        if len(_SITUATIONS) >= 4096:
            _SITUATIONS.clear()  # numbers are never reused, so forgetting one only costs a recompute
        number = _SITUATIONS[key] = next(_NEXT_SITUATION)
    return number

GROUPS = ("identity", "resource", "boundary", "session", "scps")
_IDENTITY, _RESOURCE, _BOUNDARY, _SESSION, _SCPS = range(5)


@dataclass
class PolicySet:
    """Every policy that applies to one principal's request, by the role each plays in evaluation."""

    identity: list[Policy] = field(default_factory=list)
    resource: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None
    scps: list[Policy] = field(default_factory=list)
    session: Policy | None = None
    # action -> (group, statement) pairs that name it, for the policies as they were when planned
    _plans: dict[str, tuple[tuple[int, Statement], ...]] = field(default_factory=dict, repr=False,
                                                                compare=False)
    _planned_for: tuple[Policy, ...] = field(default=(), repr=False, compare=False)

    def groups(self) -> list[list[Policy]]:
        """The policies by group, in GROUPS order."""
        return [self.identity, self.resource, [self.boundary] if self.boundary else [],
                [self.session] if self.session else [], self.scps]

    def fingerprint(self) -> tuple[Policy, ...]:
        """The policies themselves (compared by identity): a plan holds them, so none is reused."""
        return tuple(policy for group in self.groups() for policy in group)

    def plan(self, action: str, lowered: str,
             fingerprint: tuple[Policy, ...] | None = None) -> tuple[tuple[int, Statement], ...]:
        """Every statement naming the action, tagged with its group; replanned if the policies changed."""
        fingerprint = fingerprint or self.fingerprint()
        if fingerprint != self._planned_for:
            self._plans.clear()
            self._planned_for = fingerprint
        found = self._plans.get(lowered)
        if found is None:
            found = self._plans[lowered] = tuple(
                (index, statement) for index, group in enumerate(self.groups()) for policy in group
                for statement in policy.statements_for(action, lowered))
        return found


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
        matched: dict[str, Any] = {"SourcePolicyId": self.policy, "SourcePolicyType": self.policy_type}
        if self.statement:  # ours, not AWS's: which Sid (or [index]) inside the policy
            matched["StatementId"] = self.statement
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


def _group_verdict(allows: list[Statement], denies: list[Statement], kind: str) -> EvalDecision:
    if any(statement.policy.kind == kind for statement in denies):
        return "explicitDeny"
    return "allowed" if allows else "implicitDeny"


class _Evaluation:
    """One resource, context and caller, decided for any number of actions.

    Whether a statement's resource, principal and conditions hold does not depend on the action,
    so a role check works each statement out once, however many actions it covers.
    """

    def __init__(self, policies: PolicySet, resource: str, context: dict[str, list[str]],
                 principal: str | None) -> None:
        self.policies, self.resource, self.context, self.principal = policies, resource, context, principal
        present = [bool(group) for group in policies.groups()]
        self.fingerprint = policies.fingerprint()
        self.guards = [index for index in (_BOUNDARY, _SESSION, _SCPS) if present[index]]
        self.has_boundary, self.has_scps = present[_BOUNDARY], present[_SCPS]
        # a statement's verdict depends on nothing but the situation, so it is remembered on the
        # statement: the sandbox authorising call after call for one role works each out once
        self.situation = _situation(resource, principal, context)
        self.matched: dict[Statement, MatchedStatement] = {}

    def _holds(self, statement: Statement) -> tuple[bool, dict[str, None], bool]:
        """Does the statement apply (action aside), and which context keys it missed."""
        context = self.context
        missing: dict[str, None] = {}
        try:
            holds = statement.resource_test(self.resource, context) and (
                (statement.principals is None and statement.not_principals is None)
                or _principal_applies(statement, self.principal))
            if not holds:
                # a resource variable without a value is why the resource did not match
                for key, lower in statement.resource_variable_keys:
                    if lower not in context:
                        missing[key] = None
            else:
                for key, lower in statement.context_keys_lower:
                    if lower not in context:
                        missing[key] = None
                for test in statement.conditions:
                    if not test.evaluate(context):
                        holds = False
                        break
        except MissingVariable as unknown:
            # AWS: a variable whose key is absent makes the element not match
            holds = False
            missing[unknown.key] = None
        result = (holds, missing, statement.effect == "Allow")
        remembered = statement.remembered
        if len(remembered) >= _REMEMBERED_PER_STATEMENT:
            remembered.clear()
        remembered[self.situation] = result
        return result

    def _match(self, statements: list[Statement]) -> list[MatchedStatement]:
        matched = self.matched
        return [matched.get(s) or matched.setdefault(s, _matched(s)) for s in statements]

    def decide(self, action: str) -> Decision:
        if ":" not in action:
            raise InputError(f"{action!r} is not an action (service:Action)")
        situation, holds, missing = self.situation, self._holds, dict[str, None]()
        allows: list[list[Statement]] = [[], [], [], [], []]
        denies: list[Statement] = []
        for group, statement in self.policies.plan(action, action.lower(), self.fingerprint):
            known = statement.remembered.get(situation) or holds(statement)
            if known[1]:
                missing.update(known[1])
            if known[0]:
                (allows[group] if known[2] else denies).append(statement)
        boundary = _group_verdict(allows[_BOUNDARY], denies, "boundary") if self.has_boundary else None
        organizations = _group_verdict(allows[_SCPS], denies, "scp") if self.has_scps else None
        verdict: EvalDecision = "implicitDeny"
        matched: list[Statement] = []
        if denies:
            verdict, matched = "explicitDeny", denies
        elif all(allows[guard] for guard in self.guards):
            matched = allows[_IDENTITY] + allows[_RESOURCE]
            verdict = "allowed" if matched else "implicitDeny"
        return Decision(action, self.resource, verdict, self._match(matched) if matched else [],
                        list(missing), boundary, organizations)


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
