"""XAC002: the role a function assumes for DRS lets the function's role assume it.

An orchestrator that calls DRS in a recovery account assumes a role there. Two policies must agree: the
function's role must allow sts:AssumeRole on that role (IAM001/IAM002 judge the function's role), and the
assumed role's trust policy must name the function's role or its account. When the trust policy cannot be
read (the recovery account is out of reach), a refusal of sts:AssumeRole in this execution's logs or history
is the evidence instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DENIED, role_name

from drsdoctor.checkapi import CAUSE, CRITICAL, Finding, check, error, fail, passed, skip
from drsdoctor.iam.trust import principals_named, trust_allows
from drsdoctor.snapshot import RoleDecisions, Snapshot

REFUSED = ("AccessDenied", "not authorized")


@check(id="XAC002", service="iam", severity=CRITICAL, layer=CAUSE, plan_step="drs-permissions",
       title="The role a function assumes for DRS trusts the function's role",
       remediation="In account {account}, with its credentials: aws iam update-assume-role-policy "
                   "--role-name {role} --policy-document '{policy}'",
       reads=("role_decisions",))
def assumed_role_trusts_caller(snap: Snapshot) -> Iterator[Finding]:
    assumed = [role for role in snap.role_decisions if role.assumed_by]
    if not assumed:
        yield skip(snap.target, "no function assumes a role")
        return
    # one finding a caller: each function's role must be trusted (the orchestration function's first)
    order = {"orchestration": 0, "poller": 1}
    pairs = {(role.role_arn, role.assumed_by): role for role in assumed}
    for role in sorted(pairs.values(), key=lambda role: order.get(role.kind, 2)):
        yield _judge(snap, role)


def _judge(snap: Snapshot, role: RoleDecisions) -> Finding:
    caller, account = role.assumed_by, "".join(role.role_arn.split(":")[4:5])
    fix = {"account": account, "role": role_name(role.role_arn), "policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": caller}}]}, separators=(",", ":"))}
    who = f"the {role.kind} function {role.function}'s role {role_name(caller)}"
    if role.trust_policy:
        decided = trust_allows(role.trust_policy, role.role_arn, caller)
        named = ", ".join(principals_named(role.trust_policy)) or "no AWS principal"
        if decided.allowed:
            return passed(role.role_arn, f"role {role_name(role.role_arn)} trusts {who} ({decided.reason})")
        return fail(role.role_arn, f"the trust policy of role {role.role_arn} does not let {who} assume it: "
                                   f"it names {named}; every sts:AssumeRole of {role.function} is refused, "
                                   "and "
                                   "no DRS call it makes with that role is sent",
                    evidence=[f"trust policy: {role.trust_policy}", f"sts:AssumeRole by {caller}: "
                              f"{decided.decision} ({decided.reason})"],
                    explains=BREAKS_WHEN_DENIED.get(role.kind, ()), fix=fix)
    refusal = _refusal_seen(snap, role)
    allowed = _caller_may_assume(snap, role)
    if refusal is not None and allowed:
        return fail(role.role_arn, f"{role.function} is refused sts:AssumeRole on {role.role_arn} although "
                                   f"its role {role_name(caller)} allows it: the trust policy of that role "
                                   "(in "
                                   f"account {account}, not readable here) does not name {caller} or its "
                                   "account",
                    evidence=[refusal, f"{role_name(caller)} allows sts:AssumeRole on {role.role_arn}",
                              f"the trust policy could not be read: {role.unreadable}"],
                    explains=BREAKS_WHEN_DENIED.get(role.kind, ()), fix=fix)
    return error(role.role_arn, f"the trust policy of role {role.role_arn} could not be read: "
                                f"{role.unreadable or 'not collected'}; no verdict on whether it trusts "
                                f"{who}")


def _refusal_seen(snap: Snapshot, role: RoleDecisions) -> str | None:
    """A refused sts:AssumeRole of this role in the function's logs or the execution's failures."""
    function = snap.function(role.function) if role.function else None
    texts = [f"{role.function}'s log: {line}" for line in (function.recent_errors if function else [])]
    for event in snap.history.events if snap.history else []:
        if "Failed" in event.type:
            texts.append(f"history event {event.id} {event.type}: {json.dumps(event.details, default=str)}")
    for text in texts:
        if "AssumeRole" in text and any(mark in text for mark in REFUSED):
            return text[:600]
    return None


def _caller_may_assume(snap: Snapshot, role: RoleDecisions) -> bool:
    own = next((item for item in snap.role_decisions
                if item.role_arn == role.assumed_by and not item.assumed_by), None)
    if own is None:
        return False
    return any(d.action == "sts:AssumeRole" and d.allowed for d in own.decisions)
