"""XAC003: the jobs are asked about where they were started (the same account and region).

DRS is regional and per account: a job started in one region is not seen by a client of another. A poller
whose DRS client is made for another region (or account) than the function that starts the jobs finds
nothing, and the wave status never moves.
"""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checkapi import (
    CAUSE,
    CRITICAL,
    POLLER_FAILING,
    TASK_FAILING,
    WAVE_STATUS_STALE,
    Finding,
    check,
    fail,
    passed,
    skip,
)
from drsdoctor.snapshot import Snapshot


@check(id="XAC003", service="drs", severity=CRITICAL, layer=CAUSE, plan_step="environment",
       title="DRS is asked about the jobs in the account and region they were started in",
       remediation="Set {function}'s DRS region to {region}: aws lambda update-function-configuration "
                   "--function-name {function} --environment 'Variables={{...,{variable}={region}}}' (the "
                   "call replaces every variable: give them all)",
       reads=("functions",))
def jobs_polled_where_started(snap: Snapshot) -> Iterator[Finding]:
    callers = snap.topology.drs_callers
    starter = next((caller for caller in callers if caller.starts_jobs), None)
    pollers = [caller for caller in callers if caller.polls_jobs and not caller.starts_jobs]
    if starter is None or not pollers:
        yield skip(snap.target, "no function both starts DRS jobs and another asks about them")
        return
    for poller in pollers:
        here, there = (poller.account, poller.region), (starter.account, starter.region)
        if here == there:
            yield passed(poller.function, f"{poller.function} asks DRS in {poller.region} (account "
                                          f"{poller.account}), where {starter.function} starts the jobs")
            continue
        what = "region" if poller.account == starter.account else "account and region"
        # a poller the state machine calls itself fails its Task; a scheduled one leaves the status stale
        called = any(part.name == poller.function and snap.topology.sources_of(part.id, "invokes")
                     for part in snap.topology.parts_of("function"))
        yield fail(poller.function,
                   f"{poller.function} asks DRS about the jobs in {poller.account}/{poller.region}, but "
                   f"{starter.function} starts them in {starter.account}/{starter.region}: DRS is regional "
                   "and "
                   f"per account, so the jobs are not found there and the wave status never moves ({what} "
                   "mismatch)",
                   evidence=[*starter.evidence, *poller.evidence],
                   explains=(WAVE_STATUS_STALE, POLLER_FAILING) + ((TASK_FAILING,) if called else ()),
                   fix={"function": poller.function, "region": starter.region,
                        "variable": poller.region_from or "VARIABLE"})
