"""EVT001: the schedule rule that drives this execution's progress exists and is ENABLED; a disabled
schedule that drives something else is a warning that names what it does drive."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import finder_rules, other_schedules, progress_mode, rule_runs
from drsdoctor.checks._fixes import enable_rule, restore_schedule

from drsdoctor.checkapi import CAUSE, CRITICAL, POLLER_NOT_RUNNING, Finding, check, fail, passed, skip, warn
from drsdoctor.snapshot import Rule, Snapshot
from drsdoctor.topology.model import SCHEDULED_POLLER


@check(id="EVT001", service="events", severity=CRITICAL, layer=CAUSE, plan_step="eventbridge",
       title="The execution-finder schedule rule is enabled",
       remediation="aws events enable-rule --name {rule}",
       reads=("rules", "functions"))
def finder_rule_enabled(snap: Snapshot) -> Iterator[Finding]:
    yield from _others(snap)
    if progress_mode(snap) != SCHEDULED_POLLER:
        yield skip(snap.target, f"progress is {progress_mode(snap)}: no schedule drives this execution")
        return
    finders = snap.functions_of_kind("finder") or snap.functions_of_kind("poller")
    if not finders:
        yield skip(snap.target, "no scheduled poller was identified")
        return
    rules = finder_rules(snap)
    if not rules:
        names = ", ".join(function.name for function in finders)
        yield fail(finders[0].arn, f"no EventBridge rule targets {names}: nothing runs the polling",
                   explains=POLLER_NOT_RUNNING,
                   fix=restore_schedule(finders[0]))
        return
    for rule in rules:
        if rule.state == "ENABLED":
            yield passed(rule.arn or rule.name, f"rule {rule.name} is ENABLED")
        else:
            yield fail(rule.arn or rule.name,
                       f"rule {rule.name} is {rule.state}: EventBridge does not run {rule_runs(snap, rule)} "
                       f"(the {_kind(snap, rule)} that drives this execution's polling), so no wave status "
                       "is polled",
                       evidence=[f"{rule.name}: State={rule.state}",
                                 *snap.topology.progress.evidence[:1]],
                       explains=POLLER_NOT_RUNNING, fix=enable_rule(rule))


def _others(snap: Snapshot) -> Iterator[Finding]:
    """A schedule that does not drive this execution: disabled is worth a warning, never a cause."""
    for rule in other_schedules(snap):
        if rule.state == "ENABLED":
            yield passed(rule.arn or rule.name,
                         f"rule {rule.name} is ENABLED (it runs {rule_runs(snap, rule)})")
        else:
            yield warn(rule.arn or rule.name,
                       f"rule {rule.name} is {rule.state}: it runs {rule_runs(snap, rule)}, which does not "
                       f"drive this execution's progress ({progress_mode(snap)})",
                       evidence=[f"{rule.name}: State={rule.state}"], fix=enable_rule(rule))


def _kind(snap: Snapshot, rule: Rule) -> str:
    kinds = [f.kind for f in snap.functions if snap.rules_targeting(f) and rule in snap.rules_targeting(f)]
    return next((kind for kind in kinds if kind != "other"), "poller")
