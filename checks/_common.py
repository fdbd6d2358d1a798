"""Small readings of the Snapshot that several checks share (not a check: the loader skips _ modules)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from drsdoctor.checkapi import (
    POLLER_FAILING,
    POLLER_NOT_RUNNING,
    RECORD_MISSING,
    SERVERS_NOT_LAUNCHED,
    TASK_FAILING,
    WAVE_NOT_STARTED,
    WAVE_STATUS_STALE,
)
from drsdoctor.snapshot import Function, Rule, Snapshot
from drsdoctor.topology.design import timings as design_timings
from drsdoctor.topology.model import SCHEDULED_POLLER, SELF_POLLING, UNKNOWN

DEFAULT_POLL_SECONDS = 60
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

# what breaks, in chain tags, when a function of this kind cannot run or cannot do its work
BREAKS_WHEN_DOWN: dict[str, tuple[str, ...]] = {
    "orchestration": (TASK_FAILING, WAVE_NOT_STARTED, RECORD_MISSING),
    "finder": (POLLER_NOT_RUNNING, POLLER_FAILING),
    "poller": (POLLER_NOT_RUNNING, POLLER_FAILING, WAVE_STATUS_STALE),
    "other": (),
}
BREAKS_WHEN_DENIED: dict[str, tuple[str, ...]] = {
    "orchestration": (TASK_FAILING, WAVE_NOT_STARTED, SERVERS_NOT_LAUNCHED),
    "finder": (POLLER_NOT_RUNNING, POLLER_FAILING),
    "poller": (POLLER_FAILING, WAVE_STATUS_STALE),
    "statemachine": (TASK_FAILING,),
}


def rate_seconds(expression: str | None) -> int | None:
    """Seconds between runs of a rate() schedule; None for cron() or anything else."""
    match = _RATE.match((expression or "").strip())
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")] if match else None


def finder_rules(snap: Snapshot) -> list[Rule]:
    """The rules that drive this execution's progress (the schedule that runs its poller), as the topology
    found them; in a Snapshot built without one, the rules that run its finder (or poller)."""
    if snap.topology.parts:
        driving = set(snap.topology.progress.rules)
        return [rule for rule in snap.rules if rule.arn in driving or rule.name in driving]
    finders = snap.functions_of_kind("finder") or snap.functions_of_kind("poller")
    return snap.rules_targeting(finders) if finders else []


def progress_mode(snap: Snapshot) -> str:
    """How this execution's progress is driven (topology.model's modes)."""
    if snap.topology.parts:
        return snap.topology.progress.mode
    return SCHEDULED_POLLER if snap.functions_of_kind("finder", "poller") else UNKNOWN


def other_schedules(snap: Snapshot) -> list[Rule]:
    """Scheduled rules that target a part of the orchestrator but do not drive this execution's progress."""
    driving = {rule.name for rule in finder_rules(snap)}
    parts = {part.id for part in snap.topology.parts}
    return [rule for rule in snap.rules if rule.schedule_expression and rule.name not in driving
            and any(":".join(t.arn.split(":")[:7]) in parts or t.arn in parts for t in rule.targets)]


def rule_runs(snap: Snapshot, rule: Rule) -> str:
    """What a rule runs, in the operator's words: the names of the parts it targets."""
    names = snap.topology.what_rule_runs(rule.arn or rule.name) if snap.topology.parts else []
    return ", ".join(names) or ", ".join(target.arn.rsplit(":", 1)[-1] for target in rule.targets)


# status values that end a wave or a plan, whatever the orchestrator's case (the map adds its own)
DONE = {"COMPLETED", "COMPLETE", "SUCCEEDED", "SUCCESS", "DONE", "LAUNCHED", "FINISHED"}
FAILED = {"FAILED", "FAILURE", "ERROR", "CANCELLED", "CANCELED", "ABORTED", "TIMED_OUT", "TIMEDOUT"}


# record statuses that ask for the poller (the others: between waves, or ended), whatever their case
POLLED = {"POLLING", "IN_PROGRESS", "INPROGRESS", "WAITING", "LAUNCHING", "WAVE_IN_PROGRESS"}


def polled(status: str) -> bool:
    return status.upper() in POLLED


def terminal(snap: Snapshot, status: str) -> bool:
    """Whether a recorded status says the plan (or wave) ended: done or failed."""
    place = snap.topology.record_place()
    extra = {v.upper() for v in (place.done_values + place.failed_values)} if place else set()
    return status.upper() in DONE | FAILED | extra


def record_drives(snap: Snapshot) -> bool:
    """Whether the execution's record is where the machine reads its wave status (not only a mirror)."""
    if not snap.topology.parts:
        return True
    return snap.topology.progress.mode != SELF_POLLING or snap.topology.history_place() is None


def poll_interval(snap: Snapshot) -> int:
    """How often the wave status should move: the record's interval, the function's, or the schedule's."""
    record = snap.execution_record
    if record and record.poll_interval_seconds:
        return record.poll_interval_seconds
    seconds = timings(snap)[0]
    if seconds:
        return seconds
    schedules = [rate_seconds(rule.schedule_expression) for rule in finder_rules(snap)]
    return min((s for s in schedules if s), default=DEFAULT_POLL_SECONDS)


def timings(snap: Snapshot) -> tuple[int | None, int | None]:
    """The poll interval (seconds) and wave timeout (minutes) the design says, where it says."""
    if snap.topology.parts:
        return snap.topology.poll_interval_seconds, snap.topology.wave_timeout_minutes
    poll, timeout, _ = design_timings(snap.functions_of_kind("orchestration"))
    return poll, timeout


def ago(now: datetime, then: datetime) -> str:
    """"42 minutes ago" style spans for details an operator reads."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds} seconds ago"
    if seconds < 7200:
        return f"{seconds // 60} minutes ago"
    return f"{seconds // 3600} hours ago" if seconds < 172800 else f"{seconds // 86400} days ago"


def at(now: datetime, moment: datetime) -> str:
    """"18:47:26 UTC, 20 minutes ago": a moment and its age, written the same way by every check, both on
    the report's one clock (`now`: when the facts were read)."""
    return f"{clock(moment)}, {ago(now, moment)}"


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC") if moment.utcoffset() == timedelta(0) else moment.isoformat()


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1] if role_arn else ""


def function_label(function: Function) -> str:
    kind = "" if function.kind == "other" else f"{function.kind} "
    return f"{kind}function {function.name}"


def lambda_may_be_invoked_by(policy_text: str | None, service: str, source_arn: str) -> tuple[bool, str]:
    """Whether a function's resource policy lets ``service`` invoke it for ``source_arn``, and why.

    Enough of IAM for resource policies as CloudFormation and `lambda add-permission` write them:
    Allow/Deny, Principal Service or "*", Action lambda:InvokeFunction (or a wildcard), and
    ArnLike/ArnEquals/StringEquals on AWS:SourceArn. An explicit Deny wins.
    """
    if not policy_text:
        return False, "the function has no resource-based policy"
    try:
        statements = json.loads(policy_text).get("Statement", [])
    except (ValueError, AttributeError):
        return False, "the function's resource-based policy is not valid JSON"
    if isinstance(statements, dict):
        statements = [statements]
    allowed_by = ""
    for statement in statements:
        if not (_principal_matches(statement.get("Principal"), service)
                and _action_matches(statement.get("Action"), "lambda:InvokeFunction")
                and _source_matches(statement.get("Condition") or {}, source_arn)):
            continue
        sid = statement.get("Sid", "(no Sid)")
        if statement.get("Effect") == "Deny":
            return False, f"statement {sid} denies it"
        if statement.get("Effect") == "Allow" and not allowed_by:
            allowed_by = f"statement {sid} allows it"
    if allowed_by:
        return True, allowed_by
    return False, f"no statement lets {service} invoke it from {source_arn}"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(item in (service, "*") for item in _listed(principal.get("Service", [])))
    return False


def _action_matches(actions: Any, wanted: str) -> bool:
    return any(fnmatchcase(wanted.lower(), str(action).lower()) for action in _listed(actions or []))


def _source_matches(condition: dict[str, Any], source_arn: str) -> bool:
    for operator, tests in condition.items():
        for key, expected in (tests or {}).items():
            if key.lower() != "aws:sourcearn":
                continue
            patterns = [str(value) for value in _listed(expected)]
            if operator in ("ArnLike", "StringLike"):
                if not any(fnmatchcase(source_arn, pattern) for pattern in patterns):
                    return False
            elif operator in ("ArnEquals", "StringEquals"):
                if source_arn not in patterns:
                    return False
            elif operator in ("ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike") and any(
                    fnmatchcase(source_arn, pattern) for pattern in patterns):
                return False
    return True

