"""IAM001: the orchestration function's role allows everything it needs, DRS follow-on actions included.

DRS performs the launch's EC2 work with the caller's credentials: without drs:CreateRecoveryInstanceForDrs
or the EC2 actions, StartRecovery succeeds and the job ends COMPLETED with every server FAILED.

What happened outranks what a policy evaluation predicts: when this execution's jobs launched servers,
a denial of the launch actions is reported as a doubt about the evaluation (a statement scoped to
resources or conditions it could not match), not as the cause.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DENIED, role_name
from drsdoctor.checks._roles import role_findings

from drsdoctor.checkapi import CAUSE, CRITICAL, SERVERS_NOT_LAUNCHED, Finding, check, skip, warn
from drsdoctor.snapshot import Snapshot

FOLLOW_ON_PREFIXES = ("drs:CreateRecoveryInstanceForDrs", "drs:ListTagsForResource", "ec2:", "iam:PassRole")


def _follow_on() -> set[str] | None:
    try:
        from drsdoctor.iam.drs_needs import follow_on_actions

        return set(follow_on_actions())
    except Exception:  # the needs data is optional here: the prefixes say the same
        return None


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
    known = _follow_on()

    def is_follow_on(action: str) -> bool:
        return action in known if known else action.startswith(FOLLOW_ON_PREFIXES)

    launched = [job.job_id for job in snap.drs_jobs
                if any(server.launch_status == "LAUNCHED" for server in job.servers)]
    for role in roles:
        launch_actions = [d for d in role.denied()
                          if d.action == "drs:StartRecovery" or is_follow_on(d.action)]
        if launched and launch_actions:
            doubted = sorted({d.action for d in launch_actions})
            names = ", ".join(doubted)
            yield warn(role.role_arn, f"the evaluation finds {names} not allowed for role "
                                      f"{role_name(role.role_arn)}, yet job {launched[0]} launched servers "
                                      "with it: a statement scoped to resources or conditions the evaluation "
                                      "did not match",
                       evidence=[f"{d.action} on {d.resource}: {d.decision} ({d.reason})"
                                 for d in launch_actions],
                       fix=f"Confirm with: aws iam simulate-principal-policy --policy-source-arn "
                           f"{role.role_arn} --action-names {' '.join(doubted[:5])}")
            role = dataclasses.replace(role, decisions=[d for d in role.decisions if d.action not in doubted])
            if not role.denied():
                continue
        follow_on = [d for d in role.denied() if is_follow_on(d.action)]
        others = len(role.denied()) > len(follow_on)
        explains = ((SERVERS_NOT_LAUNCHED,) if follow_on else ()) + (
            BREAKS_WHEN_DENIED["orchestration"] if others else ())
        note = (" (DRS does the launch's EC2 work with this role's credentials: the job completes and "
                "no server launches)") if follow_on else ""
        yield from role_findings(role, explains, note, snap)
