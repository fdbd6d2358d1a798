"""IAM001: the orchestration function's role allows everything it needs, DRS follow-on actions included.

DRS performs the launch's EC2 work with the caller's credentials: without drs:CreateRecoveryInstanceForDrs
or the EC2 actions, StartRecovery succeeds and the job ends COMPLETED with every server FAILED.
"""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DENIED
from drsdoctor.checks._roles import role_findings

from drsdoctor.checkapi import CAUSE, CRITICAL, SERVERS_NOT_LAUNCHED, Finding, check, skip
from drsdoctor.snapshot import Snapshot

FOLLOW_ON_PREFIXES = ("drs:CreateRecoveryInstanceForDrs", "ec2:", "iam:PassRole")


@check(id="IAM001", service="iam", severity=CRITICAL, layer=CAUSE, plan_step="drs-permissions",
       title="The orchestration role allows every DRS action, follow-on actions included",
       remediation="aws iam put-role-policy --role-name {role} --policy-name drs-orchestration-missing "
                   "--policy-document '{policy}'",
       reads=("role_decisions",))
def orchestration_role(snap: Snapshot) -> Iterator[Finding]:
    roles = [role for role in snap.role_decisions if role.kind == "orchestration"]
    if not roles:
        yield skip(snap.target, "the orchestration role's permissions were not evaluated")
        return
    for role in roles:
        follow_on = [d for d in role.denied() if d.action.startswith(FOLLOW_ON_PREFIXES)]
        others = len(role.denied()) > len(follow_on)
        explains = ((SERVERS_NOT_LAUNCHED,) if follow_on else ()) + (
            BREAKS_WHEN_DENIED["orchestration"] if others else ())
        note = (" (DRS does the launch's EC2 work with this role's credentials: the job completes and "
                "no server launches)") if follow_on else ""
        yield from role_findings(role, explains, note)
