"""IAM003: the state machine's role may invoke every function its Task states call."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DENIED
from drsdoctor.checks._roles import role_findings

from drsdoctor.checkapi import CAUSE, CRITICAL, Finding, check, skip
from drsdoctor.snapshot import Snapshot


@check(id="IAM003", service="iam", severity=CRITICAL, layer=CAUSE, plan_step="transitions",
       title="The state machine role can invoke each function",
       remediation="aws iam put-role-policy --role-name {role} --policy-name invoke-functions "
                   "--policy-document '{policy}'",
       reads=("role_decisions", "state_machine"))
def statemachine_invoke(snap: Snapshot) -> Iterator[Finding]:
    roles = [role for role in snap.role_decisions if role.kind == "statemachine"]
    if not roles:
        yield skip(snap.target, "the state machine role's permissions were not evaluated")
        return
    for role in roles:
        yield from role_findings(role, BREAKS_WHEN_DENIED["statemachine"], snap=snap)
