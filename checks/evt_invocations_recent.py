"""EVT004: while a recovery runs, the execution-finder and execution-poller were invoked recently."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from drsdoctor.checks._common import ago, at, finder_rules, polled, rate_seconds

from drsdoctor.checkapi import (
    EXECUTION_STUCK,
    HIGH,
    MECHANISM,
    POLLER_NOT_RUNNING,
    WAVE_STATUS_STALE,
    Finding,
    check,
    fail,
    now_of,
    passed,
    skip,
    warn,
)
from drsdoctor.snapshot import Snapshot

MISSED_RUNS = 3  # this many schedule periods without an invocation is not a delay, it is a stop
FLOOR = timedelta(minutes=5)


@check(id="EVT004", service="events", severity=HIGH, layer=MECHANISM, plan_step="eventbridge",
       title="The execution-finder and execution-poller are being invoked",
       remediation="See why {function} is not invoked: the rule's state, its target permission, the "
                   "function's concurrency (checks EVT001, EVT003, LMB003)",
       reads=("functions", "execution"))
def invocations_recent(snap: Snapshot) -> Iterator[Finding]:
    pollers = snap.functions_of_kind("finder", "poller")
    if not pollers:
        yield skip(snap.target, "no execution-finder or execution-poller function was identified")
        return
    if snap.execution is not None and snap.execution.status != "RUNNING":
        yield skip(snap.target, f"the execution is {snap.execution.status}: no polling is expected now")
        return
    now = now_of(snap)
    schedules = [rate_seconds(rule.schedule_expression) for rule in finder_rules(snap)]
    period = min((seconds for seconds in schedules if seconds), default=60)
    allowed = max(FLOOR, timedelta(seconds=period * MISSED_RUNS))
    started = snap.execution.start_date if snap.execution else None
    record = snap.execution_record
    for function in pollers:
        fix = {"function": function.name}
        if function.kind == "poller" and record is not None and record.exists and not polled(record.status):
            yield skip(function.arn, f"the execution record is {record.status}: the poller is not due")
            continue
        if function.last_invocation is None:
            if started and now - started > allowed:
                yield warn(function.arn, f"{function.kind} function {function.name} left no log of any "
                                         f"invocation since the execution started {ago(now, started)}",
                           shows=POLLER_NOT_RUNNING, explains=(WAVE_STATUS_STALE, EXECUTION_STUCK), fix=fix)
            else:
                yield skip(function.arn, f"no invocation of {function.name} in its logs yet")
            continue
        quiet = now - function.last_invocation
        # due only once the execution (and its record's newest change) is older than a few runs: a wave
        # that began polling a moment ago has not yet been picked up, whenever the poller last ran
        since = max((moment for moment in (started, record.updated_at if record else None) if moment),
                    default=None)
        if since is not None and now - since <= allowed:
            what = "the execution started" if since == started else "the execution's record last changed"
            yield passed(function.arn, f"{what} at {at(now, since)}: {function.name} is not due yet")
        elif quiet > allowed:
            last = function.last_invocation
            yield fail(function.arn, f"{function.kind} function {function.name} was last invoked at "
                                     f"{at(now, last)}; it should run every {period}s",
                       evidence=[f"newest log event: {function.last_invocation.isoformat()}"],
                       shows=POLLER_NOT_RUNNING, explains=(WAVE_STATUS_STALE, EXECUTION_STUCK), fix=fix)
        else:
            yield passed(function.arn, f"{function.name} was invoked {ago(now, function.last_invocation)}")

