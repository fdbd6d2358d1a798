"""EVT003: each target of the finder's rule exists and its resource policy lets EventBridge invoke it."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import finder_rules, lambda_may_be_invoked_by
from drsdoctor.checks._fixes import allow_events_invoke, retarget

from drsdoctor.checkapi import CAUSE, CRITICAL, POLLER_NOT_RUNNING, Finding, check, error, fail, passed, skip
from drsdoctor.fixes import remedy
from drsdoctor.snapshot import Snapshot

EVENTS = "events.amazonaws.com"


@check(id="EVT003", service="events", severity=CRITICAL, layer=CAUSE, plan_step="eventbridge",
       title="The finder rule's target exists and EventBridge may invoke it",
       remediation="aws lambda add-permission --function-name {function} --statement-id {rule}-invoke "
                   "--action lambda:InvokeFunction --principal events.amazonaws.com --source-arn {rule_arn}",
       reads=("rules", "functions"))
def target_permitted(snap: Snapshot) -> Iterator[Finding]:
    rules = finder_rules(snap)
    if not rules:
        yield skip(snap.target, "no rule targets the execution-finder (see EVT001)")
        return
    for rule in rules:
        for target in rule.targets:
            if ":lambda:" not in target.arn:
                continue
            function = snap.function(target.arn)
            if function is None:
                # the finder the topology found is what the rule should run
                finders = snap.functions_of_kind("finder") or snap.functions_of_kind("poller")
                yield fail(target.arn, f"rule {rule.name} targets {target.arn}, which does not exist",
                           explains=POLLER_NOT_RUNNING,
                           fix=retarget(rule, target.id, finders[0]) if finders else
                           f"Point rule {rule.name}'s target {target.id} at the function it should run "
                           "(aws events put-targets)")
                continue
            missing = snap.missing("functions", function.name) or snap.missing("functions", function.arn)
            if function.policy is None and missing is not None:
                yield error(function.arn, f"the resource policy of {function.name} could not be read: "
                                          f"{missing.describe()}")
                continue
            allowed, why = lambda_may_be_invoked_by(function.policy, EVENTS, rule.arn)
            if allowed:
                yield passed(function.arn, f"rule {rule.name} may invoke {function.name}: {why}")
            else:
                yield fail(function.arn, f"EventBridge may not invoke {function.name} for rule {rule.name}: "
                                         f"{why}; the rule fires and the invocation is refused",
                           evidence=[function.policy or "(no resource policy)"], explains=POLLER_NOT_RUNNING,
                           fix=remedy(allow_events_invoke(function, rule)))
