"""PLN003: the role that starts the recovery plan may start it, and may do what DRS then does as it.

DRS starts each server step's job with the permissions of whoever started the execution: drs:StartRecovery
on the step's servers, then the follow-on actions (drs:CreateRecoveryInstanceForDrs, the EC2 launch work,
iam:PassRole) from drsdoctor/iam/drs_needs.yaml. The role is the one `--plan-role` names, or the caller an
AccessDenied in a step's errorDetail names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from drsdoctor.checks._common import role_name

from drsdoctor.checkapi import (
    CAUSE,
    CRITICAL,
    EXECUTION_FAILED,
    SERVERS_NOT_LAUNCHED,
    Finding,
    check,
    fail,
    passed,
    skip,
)
from drsdoctor.snapshot import Snapshot

STARTER = "plan-starter"


@check(
    id="PLN003",
    service="iam",
    severity=CRITICAL,
    layer=CAUSE,
    title="The role that starts the recovery plan allows it and every DRS follow-on action",
    remediation="aws iam put-role-policy --role-name {role} --policy-name drs-recovery-plan-missing "
    "--policy-document '{policy}'",
    reads=("recovery_plan", "role_decisions"),
)
def plan_permissions(snap: Snapshot) -> Iterator[Finding]:
    run = snap.recovery_plan
    if run is None:
        return
    roles = [role for role in snap.role_decisions if role.kind == STARTER]
    if not run.starter_role or not roles:
        yield skip(
            run.arn,
            "which role started this execution is not known (DRS does not say, and no "
            "errorDetail names it): give it with --plan-role ROLE_ARN to judge its permissions",
        )
        return
    for role in roles:
        denied = role.denied()
        if not denied:
            yield passed(
                role.role_arn,
                f"role {role_name(role.role_arn)} ({run.starter_from}) allows the plan, "
                f"drs:StartRecovery and the {sum(d.follow_on for d in role.decisions)} "
                "follow-on actions",
            )
            continue
        actions = sorted({d.action for d in denied})
        follow_on = sorted({d.action for d in denied if d.follow_on})
        what = (
            f"; DRS performs {', '.join(follow_on)} with its credentials after StartRecovery, so the job "
            "ends with its servers FAILED"
            if follow_on
            else ""
        )
        # what to grant: on every source server (the plan's steps name them), not the one judged
        resources = sorted({re.sub(r"/s-[0-9a-zA-Z]+$", "/*", d.resource) for d in denied})
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": resources}
            ],
        }
        yield fail(
            role.role_arn,
            f"role {role_name(role.role_arn)} ({run.starter_from}) may not "
            f"{', '.join(actions[:6])}{' ...' if len(actions) > 6 else ''}{what}",
            evidence=[
                f"{d.action} on {d.resource}: {d.decision} ({d.reason or 'no statement allows it'})"
                for d in denied[:10]
            ],
            explains=(SERVERS_NOT_LAUNCHED, EXECUTION_FAILED),
            fix={"role": role_name(role.role_arn), "policy": json.dumps(policy, separators=(",", ":"))},
        )
