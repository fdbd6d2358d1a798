"""EventBridge schedule rules, fired on the sandbox clock through the public APIs.

Every simulated minute the scheduler lists the rules; a rule with a `rate(...)` schedule fires once a period,
one with a `cron(...)` schedule in each minute its expression names (cron.py), only while ENABLED. Each
Lambda target is invoked asynchronously only when the function's resource policy lets events.amazonaws.com
invoke it from that rule (Principal, Action, SourceArn condition), as EventBridge would;
otherwise the attempt counts as a failed invocation. AWS/Events Invocations and FailedInvocations (RuleName
dimension) are put into CloudWatch, where an operator would look.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import json
import re
import threading
import uuid
from typing import Any

from drsdoctor.sandbox.clock import Clock
from drsdoctor.sandbox.cron import CronError, fires_at, is_cron

_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_TICK = datetime.timedelta(minutes=1)


def rate_minutes(expression: str | None) -> int | None:
    """The period of a `rate(...)` schedule in minutes; None for other expressions."""
    match = _RATE.fullmatch((expression or "").strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2).rstrip("s")]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_is_events(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p in ("events.amazonaws.com", "*") for p in _as_list(principal.get("Service", [])))
    return principal == "events.amazonaws.com"


def _conditions_hold(conditions: dict[str, Any], rule_arn: str, account: str) -> bool:
    """The condition operators resource policies use for event sources; anything else does not match."""
    context = {"aws:sourcearn": rule_arn, "aws:sourceaccount": account}
    for operator, entries in conditions.items():
        for key, expected in entries.items():
            actual = context.get(key.lower())
            values = [str(v) for v in _as_list(expected)]
            if actual is None:
                return False
            if operator in ("ArnLike", "StringLike"):
                matched = any(fnmatch.fnmatchcase(actual, v) for v in values)
            elif operator in ("ArnEquals", "StringEquals"):
                matched = actual in values
            else:
                return False
            if not matched:
                return False
    return True


def events_may_invoke(policy: dict[str, Any] | None, function_arn: str, rule_arn: str, account: str) -> bool:
    """Does a function's resource policy let EventBridge invoke it on behalf of this rule?"""
    allowed = False
    for statement in (policy or {}).get("Statement", []):
        actions = _as_list(statement.get("Action", []))
        if not any(fnmatch.fnmatchcase("lambda:InvokeFunction", a) for a in actions):
            continue
        resources = _as_list(statement.get("Resource", "*"))
        if not any(fnmatch.fnmatchcase(function_arn, r) or fnmatch.fnmatchcase(function_arn + ":$LATEST", r)
                   for r in resources):
            continue
        if not _principal_is_events(statement.get("Principal")):
            continue
        if not _conditions_hold(statement.get("Condition", {}), rule_arn, account):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


class Scheduler:
    """Fires schedule rules on the clock in a background thread."""

    def __init__(self, clock: Clock, session: Any, endpoint_url: str) -> None:
        self.clock = clock
        self._events = session.client("events", endpoint_url=endpoint_url)
        self._lambda = session.client("lambda", endpoint_url=endpoint_url)
        self._cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)
        self._first_seen: dict[str, int] = {}
        self._tick = 0
        self.ticks_done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-scheduler", daemon=True)
        self.fired: list[tuple[str, str, bool]] = []  # (rule, target, delivered): for tests and the demo

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        due = self.clock.now() + _TICK
        while not self._stop.is_set():
            if not self.clock.wait_until(due, cancelled=self._stop.is_set):
                return
            self._tick += 1
            try:
                with self.clock.hold():  # a tick takes no simulated time, so ticks never pile up
                    self.run_tick(due)
            except Exception:  # a world shutting down mid-call: the next tick (if any) tries again
                if self._stop.is_set():
                    return
            # Like EventBridge, a schedule missed while time jumped is not replayed: the next one is ahead.
            now = self.clock.now()
            while due <= now:
                due += _TICK
            self.ticks_done += 1  # tests move the clock again only once a tick is over

    def run_tick(self, now: datetime.datetime) -> None:
        """One simulated minute: fire every enabled rule whose period has come round, or whose cron
        expression names this minute."""
        for rule in self._events.list_rules()["Rules"]:
            expression = rule.get("ScheduleExpression")
            if is_cron(expression) and rule.get("State") == "ENABLED":
                with contextlib.suppress(CronError):  # EventBridge would have refused it at PutRule
                    if fires_at(expression, now):
                        self._fire(rule, now)
                continue
            period = rate_minutes(expression)
            if period is None or rule.get("State") != "ENABLED":
                self._first_seen.pop(rule["Name"], None)
                continue
            first = self._first_seen.setdefault(rule["Name"], self._tick)
            if self._tick > first and (self._tick - first) % period == 0:
                self._fire(rule, now)

    def _fire(self, rule: dict[str, Any], now: datetime.datetime) -> None:
        targets = self._events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        account = rule["Arn"].split(":")[4]
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": account, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "region": rule["Arn"].split(":")[3], "resources": [rule["Arn"]], "detail": {}}
        delivered = failed = 0
        for target in targets:
            ok = self._deliver(target, rule["Arn"], account, event)
            self.fired.append((rule["Name"], target["Arn"], ok))
            delivered, failed = delivered + ok, failed + (not ok)
        dimensions = [{"Name": "RuleName", "Value": rule["Name"]}]
        data = [{"MetricName": "Invocations", "Dimensions": dimensions, "Value": delivered + failed,
                 "Unit": "Count", "Timestamp": now},
                {"MetricName": "TriggeredRules", "Dimensions": dimensions, "Value": 1, "Unit": "Count",
                 "Timestamp": now}]
        if failed:
            data.append({"MetricName": "FailedInvocations", "Dimensions": dimensions, "Value": failed,
                         "Unit": "Count", "Timestamp": now})
        self._cloudwatch.put_metric_data(Namespace="AWS/Events", MetricData=data)

    def _deliver(self, target: dict[str, Any], rule_arn: str, account: str, event: dict[str, Any]) -> bool:
        arn = target["Arn"]
        if ":lambda:" not in arn:
            return False  # the sandbox delivers only to Lambda targets
        try:
            policy = json.loads(self._lambda.get_policy(FunctionName=arn)["Policy"])
        except self._lambda.exceptions.ResourceNotFoundException:
            policy = None
        if not events_may_invoke(policy, arn, rule_arn, account):
            return False
        payload = target.get("Input") or json.dumps(event)
        try:
            self._lambda.invoke(FunctionName=arn, InvocationType="Event", Payload=payload.encode())
        except self._lambda.exceptions.ResourceNotFoundException:
            return False
        return True
