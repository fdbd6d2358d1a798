"""EVT002: the finder's rule runs on a valid schedule, often enough to poll the wave."""

from __future__ import annotations

import re
from collections.abc import Iterator

from drsdoctor.checks._common import finder_rules, rate_seconds
from drsdoctor.checks._fixes import put_schedule

from drsdoctor.checkapi import CAUSE, HIGH, POLLER_NOT_RUNNING, Finding, check, fail, passed, skip, warn
from drsdoctor.snapshot import Snapshot

SLOWEST_SECONDS = 600  # slower than this and a wave's status lags by more than a poll cycle matters
_RATE = re.compile(r"^rate\((\d+) (\w+)\)$")
_CRON_FIELDS = 6  # EventBridge cron: minutes hours day-of-month month day-of-week year


@check(id="EVT002", service="events", severity=HIGH, layer=CAUSE, plan_step="eventbridge",
       title="The execution-finder rule runs on a valid, frequent schedule",
       remediation="aws events put-rule --name {rule} --schedule-expression 'rate(1 minute)'",
       reads=("rules", "functions"))
def schedule_valid(snap: Snapshot) -> Iterator[Finding]:
    rules = finder_rules(snap)
    if not rules:
        yield skip(snap.target, "no rule targets the execution-finder (see EVT001)")
        return
    for rule in rules:
        where, expression = rule.arn or rule.name, (rule.schedule_expression or "").strip()
        fix = put_schedule(rule)
        if not expression:
            yield fail(where, f"rule {rule.name} has no schedule (an event pattern rule): it never runs "
                              "the finder on its own", explains=POLLER_NOT_RUNNING, fix=fix)
            continue
        problem = _problem(expression)
        if problem:
            yield fail(where, f"rule {rule.name} schedule {expression!r} {problem}",
                       explains=POLLER_NOT_RUNNING, fix=fix)
            continue
        seconds = rate_seconds(expression)
        if seconds and seconds > SLOWEST_SECONDS:
            yield warn(where, f"rule {rule.name} polls only every {seconds // 60} minutes ({expression})",
                       fix=fix)
            continue
        yield passed(where, f"rule {rule.name} runs on {expression}")


def _problem(expression: str) -> str | None:
    rate = _RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value <= 0:
            return "has a rate of zero"
        singular = unit.rstrip("s")
        if singular not in ("minute", "hour", "day"):
            return f"has an unknown unit {unit!r}"
        if (value == 1) != (unit == singular):  # EventBridge rejects rate(1 minutes) and rate(5 minute)
            return f"must say {value} {singular if value == 1 else singular + 's'}"
        return None
    if expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        if len(fields) != _CRON_FIELDS:
            return f"has {len(fields)} cron fields; EventBridge needs {_CRON_FIELDS}"
        if "?" not in (fields[2], fields[4]):
            return "must use ? in day-of-month or day-of-week"
        return None
    return "is neither rate(...) nor cron(...)"
