"""Turning a role's decided actions into findings (shared by the IAM checks; not a check)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from drsdoctor.checks._common import role_name

from drsdoctor.checkapi import Finding, Fix, fail, passed, skip, warn
from drsdoctor.snapshot import Decision, RoleDecisions

SHOWN = 6  # actions named in a detail line; the evidence and the fix list them all
# the orchestrator's own services first: a missing drs: action matters more than the 20th ec2: one
SERVICE_ORDER = ("drs", "dynamodb", "lambda", "states", "iam", "ec2")


def _importance(action: str) -> tuple[int, str]:
    service = action.split(":", 1)[0]
    return (SERVICE_ORDER.index(service) if service in SERVICE_ORDER else len(SERVICE_ORDER), action)


def _engine(role: RoleDecisions) -> str:
    return "iam:SimulatePrincipalPolicy" if role.engine != "local" else "drsdoctor's local policy evaluator"


def role_findings(role: RoleDecisions, explains: tuple[str, ...], note: str = "") -> Iterator[Finding]:
    denied = role.denied()
    who = f"{role.kind} role {role_name(role.role_arn)}"
    if not role.decisions:  # nothing was decided: "allows all 0 actions" would be a pass on no evidence
        yield skip(role.role_arn, f"no action of the {who} was evaluated")
        return
    if not denied:
        count = len(role.decisions)
        yield passed(role.role_arn, f"the {who} allows the {count} action{'s' if count != 1 else ''} it "
                                    f"needs (decided by {_engine(role)})")
        return
    # without logs:* the function still works; it only goes dark (its invocations and errors unseen)
    essential = [d for d in denied if not d.action.startswith("logs:")]
    chosen = essential or denied
    evidence = [f"{d.action} on {d.resource}: {d.decision}" + (f" ({d.reason})" if d.reason else "")
                for d in sorted(chosen, key=lambda d: _importance(d.action))]
    evidence.append(f"decided by {_engine(role)}")
    detail, fix = _describe(chosen, role)
    if not essential:
        yield warn(role.role_arn, f"the {who} {detail}: the function runs but leaves no logs to diagnose",
                   evidence=evidence, fix=fix)
        return
    yield fail(role.role_arn, f"the {who} {detail}{note}", evidence=evidence, explains=explains, fix=fix)


def _describe(denied: list[Decision], role: RoleDecisions) -> tuple[str, Fix]:
    implicit = sorted({d.action for d in denied if d.decision != "explicitDeny"}, key=_importance)
    explicit = sorted({d.action for d in denied if d.decision == "explicitDeny"}, key=_importance)
    parts = []
    if implicit:
        parts.append(f"does not allow {_some(implicit)}")
    if explicit:
        parts.append(f"explicitly denies {_some(explicit)}")
    name = role_name(role.role_arn)
    if explicit and not implicit:
        return " and ".join(parts), (f"Remove the Deny of {', '.join(explicit)} from the policies, boundary "
                                     f"or SCP that apply to role {name} (the evidence names the statement)")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": implicit, "Resource": "*"}]}, separators=(",", ":"))
    return " and ".join(parts), {"role": name, "policy": policy}


def _some(actions: list[str]) -> str:
    more = f" and {len(actions) - SHOWN} more" if len(actions) > SHOWN else ""
    return ", ".join(actions[:SHOWN]) + more
