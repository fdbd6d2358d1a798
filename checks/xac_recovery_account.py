"""XAC001: DRS is read in the account where the recovery runs.

An orchestrator may call DRS in another account (a recovery account), with a role it assumes there. The
jobs, their log items and the recovery role are only there: when drsdoctor cannot reach that account, every
check of them has no facts, and this check says which facts are missing, why, and how to give access.
"""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checkapi import HIGH, SYMPTOM, Finding, check, error, passed, skip
from drsdoctor.snapshot import Snapshot

HOW = {"operator-role": "with the role you named (--assume-role)",
       "operator-profile": "with the profile you named (--account-profile)",
       "orchestrator-role": "with the orchestrator's own recovery role, which your principal may assume"}


@check(id="XAC001", service="drs", severity=HIGH, layer=SYMPTOM,
       title="DRS is read in the account where the recovery runs",
       remediation="Give drsdoctor a way into account {account}: --assume-role "
                   "arn:aws:iam::{account}:role/ROLE (a role there that trusts your principal and allows "
                   "what `drsdoctor permissions` lists for DRS and IAM), or --account-profile "
                   "{account}=PROFILE",
       reads=("functions", "accounts"))  # where DRS is called: from the functions
def recovery_account_read(snap: Snapshot) -> Iterator[Finding]:
    if not snap.accounts:
        yield skip(snap.target, "DRS is called in the execution's own account")
        return
    for reach in snap.accounts:
        resource = f"account/{reach.account}"
        callers = [caller.function for caller in snap.topology.drs_callers if caller.account == reach.account]
        who = ", ".join(callers) or "the orchestrator"
        where = f"{who} call DRS in account {reach.account} ({reach.region})"
        if reach.reached:
            yield passed(resource, f"{where}; read there {HOW.get(reach.how, '')} ({reach.via})",
                         evidence=[*reach.tried, *(e for c in snap.topology.drs_callers for e in c.evidence)])
            continue
        yield error(resource, f"{where}, which drsdoctor could not reach: not read there: "
                              f"{', '.join(reach.missing)}, and the recovery role's policies and trust; no "
                              "verdict on them",
                    evidence=[*reach.tried, "give access: --assume-role arn:aws:iam::"
                              f"{reach.account}:role/ROLE or --account-profile {reach.account}=PROFILE"])
