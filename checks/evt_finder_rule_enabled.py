"""EVT001: the schedule rule that runs the execution-finder exists and is ENABLED."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import finder_rules

from drsdoctor.checkapi import CAUSE, CRITICAL, POLLER_NOT_RUNNING, Finding, check, fail, passed, skip
from drsdoctor.snapshot import Snapshot


@check(id="EVT001", service="events", severity=CRITICAL, layer=CAUSE, plan_step="eventbridge",
       title="The execution-finder schedule rule is enabled",
       remediation="aws events enable-rule --name {rule}",
       reads=("rules", "functions"))
def finder_rule_enabled(snap: Snapshot) -> Iterator[Finding]:
    finders = snap.functions_of_kind("finder") or snap.functions_of_kind("poller")
    if not finders:
        yield skip(snap.target, "no execution-finder or execution-poller function was identified")
        return
    rules = finder_rules(snap)
    if not rules:
        names = ", ".join(function.name for function in finders)
        yield fail(finders[0].arn, f"no EventBridge rule targets {names}: nothing runs the polling",
                   explains=POLLER_NOT_RUNNING,
                   fix=f"Restore the schedule rule that targets {finders[0].name} (rate(1 minute)) "
                       "from the stack template")
        return
    for rule in rules:
        if rule.state == "ENABLED":
            yield passed(rule.arn or rule.name, f"rule {rule.name} is ENABLED")
        else:
            yield fail(rule.arn or rule.name,
                       f"rule {rule.name} is {rule.state}: EventBridge does not run the execution-finder, "
                       "so no wave status is polled", evidence=[f"{rule.name}: State={rule.state}"],
                       explains=POLLER_NOT_RUNNING, fix={"rule": rule.name})
