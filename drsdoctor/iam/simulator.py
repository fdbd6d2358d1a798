"""One front for policy simulation: AWS's iam:SimulatePrincipalPolicy when it can answer, else ours.

Operators mid-incident often lack iam:SimulatePrincipalPolicy, and moto does not implement it;
both engines return the same Decision type and say which one answered ("aws" or "local").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drsdoctor.iam.evaluate import ContextValue, Decision, MatchedStatement, evaluate_all
from drsdoctor.iam.principal import Principal


def _context_entries(context: Mapping[str, ContextValue]) -> list[dict[str, Any]]:
    entries = []
    for key, value in context.items():
        values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        entries.append({"ContextKeyName": key, "ContextKeyValues": values,
                        "ContextKeyType": "stringList" if isinstance(value, list) else "string"})
    return entries


def _from_aws(result: Mapping[str, Any]) -> Decision:
    matched = [MatchedStatement(policy=m.get("SourcePolicyId", ""), policy_type=m.get("SourcePolicyType", ""),
                                kind="identity", statement="", effect="",
                                line=(m.get("StartPosition") or {}).get("Line"),
                                column=(m.get("StartPosition") or {}).get("Column"))
               for m in result.get("MatchedStatements", [])]
    boundary = result.get("PermissionsBoundaryDecisionDetail")
    organizations = result.get("OrganizationsDecisionDetail")
    return Decision(
        action=result["EvalActionName"], resource=result.get("EvalResourceName", "*"),
        decision=result["EvalDecision"], matched_statements=matched,
        missing_context_values=list(result.get("MissingContextValues", [])),
        boundary_decision=None if boundary is None else
        "allowed" if boundary.get("AllowedByPermissionsBoundary") else "implicitDeny",
        organizations_decision=None if organizations is None else
        "allowed" if organizations.get("AllowedByOrganizations") else "implicitDeny",
        engine="aws")


def simulate_with_aws(iam_client: Any, principal_arn: str, actions: list[str], resource: str,
                      context: Mapping[str, ContextValue]) -> list[Decision] | None:
    """SimulatePrincipalPolicy's answer, or None when it is unavailable or not permitted."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    decisions: list[Decision] = []
    request: dict[str, Any] = {"PolicySourceArn": principal_arn, "ActionNames": actions,
                               "ResourceArns": [resource]}
    if context:
        request["ContextEntries"] = _context_entries(context)
    try:
        while True:
            page = iam_client.simulate_principal_policy(**request)
            decisions.extend(_from_aws(result) for result in page.get("EvaluationResults", []))
            if not page.get("IsTruncated"):
                return decisions
            request["Marker"] = page["Marker"]
    except (ClientError, BotoCoreError, ResponseParserError, NotImplementedError):
        # AccessDenied, NotImplemented, throttled, unreachable: mid-incident an offline answer
        # beats none, and every Decision says which engine gave it
        return None


def simulate(principal: Principal, actions: list[str], resource: str = "*",
             context: Mapping[str, ContextValue] | None = None, iam_client: Any = None) -> list[Decision]:
    """Decide every action for the principal on the resource, with AWS if it can, else locally.

    The principal's own context (aws:PrincipalArn, aws:PrincipalTag/...) is added under the
    caller's context, which wins.
    """
    merged: dict[str, ContextValue] = {**principal.context, **(context or {})}
    concrete = principal.arn.startswith("arn:") and "{{" not in principal.arn
    if iam_client is not None and concrete:
        answered = simulate_with_aws(iam_client, principal.arn, list(actions), resource, context or {})
        if answered is not None:
            return answered
    return evaluate_all(principal.policies, actions, resource, merged,
                        principal=principal.arn if concrete else None)
