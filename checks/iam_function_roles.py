"""IAM002: the execution-finder's and execution-poller's roles allow what their functions do."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DENIED
from drsdoctor.checks._roles import role_findings

from drsdoctor.checkapi import CAUSE, CRITICAL, Finding, check, skip
from drsdoctor.snapshot import Snapshot


@check(id="IAM002", service="iam", severity=CRITICAL, layer=CAUSE, plan_step="drs-permissions",
       title="The execution-finder and execution-poller roles allow what their functions do",
       remediation="aws iam put-role-policy --role-name {role} --policy-name drs-polling-missing "
                   "--policy-document '{policy}'",
       reads=("role_decisions",))
def function_roles(snap: Snapshot) -> Iterator[Finding]:
    roles = [role for role in snap.role_decisions if role.kind in ("finder", "poller")]
    if not roles:
        yield skip(snap.target, "no execution-finder or execution-poller role was evaluated")
        return
    for role in roles:
        yield from role_findings(role, BREAKS_WHEN_DENIED[role.kind], snap=snap)
