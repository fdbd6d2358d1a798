"""DRS wherever the recovery runs: find where the functions call DRS (drsdoctor.topology.recovery), then reach
that account to read the jobs there.

The ways, in order: a profile the operator named for the account (`--account-profile ACCOUNT=PROFILE`), a
role the operator named in it (`--assume-role ARN`), then the role the orchestrator itself assumes there, when
the operator's principal may assume it. Every way tried is kept with why it failed; when none works, the
account's facts are missing (never empty) and the report says which and why.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from drsdoctor.aws import AwsSession
from drsdoctor.aws.failures import AwsFailure, api_call
from drsdoctor.collect import code
from drsdoctor.collect.gather import Gatherer
from drsdoctor.snapshot import AccountReach, FactError, Snapshot
from drsdoctor.topology import recovery

# The facts read in the account where DRS runs (the recovery role's policies are role_decisions').
DRS_FACTS = ("drs_jobs", "job_log_items")


def locate(gather: Gatherer, snap: Snapshot) -> None:
    """Where each function calls DRS, into the topology: from its code (read once: the roles' step reuses
    it), its environment and this execution's input."""
    from drsdoctor.collect.roles import input_value

    judged = [item for item in snap.functions if item.kind != "other" and item.role_arn]
    codes = gather.in_parallel([partial(code.read, gather, item) for item in judged])
    readings = {found.function: found.reading for found in codes}
    execution_input = recovery.input_document(snap.execution.input if snap.execution else None)
    callers = recovery.drs_callers(judged, readings, snap.account, snap.region,
                                   partial(input_value, snap), execution_input)
    recovery.place(snap.topology, callers, snap.account)


def reach(gather: Gatherer, snap: Snapshot) -> Gatherer | None:
    """The gatherer that reads DRS: this one when DRS is called in the execution's own account; one with
    the recovery account's credentials; None when that account cannot be reached (snap.accounts says why)."""
    account = snap.topology.drs_account
    if not account or account == snap.account:
        return gather
    settings = gather.session.settings
    ways: list[tuple[str, str, Callable[[], AwsSession]]] = []
    profile = dict(settings.account_profiles).get(account)
    if profile:
        ways.append(("operator-profile", f"profile:{profile}", partial(_profile, gather.session, profile)))
    ways += [("operator-role", role, partial(_assume, gather.session, role))
             for role in settings.assume_roles if recovery.account_of(role) == account]
    ways += [("orchestrator-role", caller.role, partial(_assume, gather.session, caller.role))
             for caller in snap.topology.drs_callers
             if caller.role and recovery.account_of(caller.role) == account]
    tried: list[str] = []
    seen: set[str] = set()
    for how, via, make in ways:
        if via in seen:
            continue
        seen.add(via)
        try:
            session = gather.once(f"reach {via}", make)
        except AwsFailure as failure:
            if failure.fatal:
                raise
            tried.append(f"{api_call(failure.service, failure.operation)} on {via}: {failure.code}"
                         + (f": {failure.message}" if failure.message else ""))
            continue
        snap.accounts.append(AccountReach(account, snap.topology.drs_region, via, how, tried))
        gather.reach[account] = session
        return gather.elsewhere(session, snap.topology.drs_region or gather.region)
    if not ways:
        tried.append("no role of that account is known to assume and none was given (--assume-role ARN, "
                     "--account-profile ACCOUNT=PROFILE)")
    snap.accounts.append(AccountReach(account, snap.topology.drs_region, tried=tried,
                                      missing=list(DRS_FACTS)))
    return None


def unreached(snap: Snapshot, account: str) -> None:
    """The DRS facts of an account that could not be reached: missing, with why."""
    found = next((item for item in snap.accounts if item.account == account), None)
    why = "; ".join(found.tried) if found else "not reached"
    denied = found is not None and any("AccessDenied" in line for line in found.tried)
    for fact in DRS_FACTS:
        if snap.missing(fact) is None:
            snap.fact_errors.append(FactError(
                fact=fact, call="sts:AssumeRole", code="AccountNotReached", resource=f"account {account}",
                message=f"DRS in account {account} could not be read: {why}",
                permission="sts:AssumeRole" if denied else None))


def _assume(home: AwsSession, role: str) -> AwsSession:
    from drsdoctor.aws.accounts import assumed

    return assumed(home, role)


def _profile(home: AwsSession, profile: str) -> AwsSession:
    from drsdoctor.aws.accounts import from_profile

    return from_profile(home, profile)


def session_for(gather: Gatherer, snap: Snapshot, arn: str) -> tuple[Any, str]:
    """The session that reads a resource of `arn`'s account, or None and why not."""
    account = recovery.account_of(arn)
    if not account or account == snap.account:
        return gather.session, ""
    session = gather.reach.get(account)
    if session is not None:
        return session, ""
    found = next((item for item in snap.accounts if item.account == account), None)
    why = "; ".join(found.tried) if found and found.tried else "no credentials for it"
    return None, f"it is in account {account}, which drsdoctor could not reach ({why})"
