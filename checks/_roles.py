"""Turning a role's decided actions into findings (shared by the IAM checks; not a check).

A denied action the function's code calls (its decision names the file and line) is a problem of this
execution when the execution shows that path ran: the call's error in the function's logs, the history or
the execution record, or, for StartRecovery and DRS's follow-on actions, a job this execution started.
Otherwise it is a warning: the code would fail there, but this run has not gone that way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from drsdoctor.checks._common import role_name
from drsdoctor.checks._fixes import put_role_policy

from drsdoctor.checkapi import Finding, Fix, error, fail, passed, skip, warn
from drsdoctor.snapshot import Decision, RoleDecisions, Snapshot

SHOWN = 6  # actions named in a detail line; the evidence and the fix list them all
# the orchestrator's own services first: a missing drs: action matters more than the 20th ec2: one
SERVICE_ORDER = ("drs", "dynamodb", "lambda", "states", "iam", "ec2")
# an action whose API operation has another name: the error text names the operation
OPERATION_OF = {"lambda:InvokeFunction": "Invoke"}


def _importance(action: str) -> tuple[int, str]:
    service = action.split(":", 1)[0]
    return (SERVICE_ORDER.index(service) if service in SERVICE_ORDER else len(SERVICE_ORDER), action)


def _engine(role: RoleDecisions) -> str:
    return "iam:SimulatePrincipalPolicy" if role.engine != "local" else "drsdoctor's local policy evaluator"


def who(role: RoleDecisions) -> str:
    if role.assumed_by:
        return f"role {role_name(role.role_arn)} (assumed by the {role.kind} function {role.function})"
    return f"{role.kind} role {role_name(role.role_arn)}"


def role_findings(role: RoleDecisions, explains: tuple[str, ...], note: str = "",
                  snap: Snapshot | None = None) -> Iterator[Finding]:
    if role.unreadable:  # an assumed role we could not read or name: no verdict on what it allows
        yield error(role.role_arn, f"the {who(role)} could not be judged: {role.unreadable}",
                    evidence=[f"the code calls {d}" for d in role.decisions])
        return
    denied = role.denied()
    if not role.decisions:  # nothing was decided: "allows all 0 actions" would be a pass on no evidence
        yield skip(role.role_arn, f"no action of the {who(role)} was evaluated")
        return
    if not denied:
        count = len(role.decisions)
        judged = "its function's code calls" if role.needs_from == "code" else "it needs"
        yield passed(role.role_arn, f"the {who(role)} allows the {count} action{'s' if count != 1 else ''} "
                                    f"{judged} (decided by {_engine(role)})")
        return
    # without logs:* the function still works; it only goes dark (its invocations and errors unseen)
    essential = [d for d in denied if not d.action.startswith("logs:")]
    if not essential:
        detail, fix = _describe(denied, role, snap)
        yield warn(role.role_arn, f"the {who(role)} {detail}: the function runs but leaves no logs to "
                                  "diagnose",
                   evidence=_evidence(denied, role), fix=fix)
        return
    ran = [d for d in essential if not d.where or snap is None or _ran(snap, role, d)]
    if not ran:  # the code would be refused there, but this execution has not gone that way
        detail, fix = _describe(essential, role, snap)
        yield warn(role.role_arn, f"the {who(role)} {detail}, which its code calls at "
                                  f"{_places(essential)}; this execution shows no sign it ran that code",
                   evidence=_evidence(essential, role), fix=fix)
        return
    detail, fix = _describe(ran, role, snap)
    where = f" (called at {_places(ran)})" if any(d.where for d in ran) else ""
    yield fail(role.role_arn, f"the {who(role)} {detail}{where}{note}", evidence=_evidence(essential, role),
               explains=explains, fix=fix)


def _ran(snap: Snapshot, role: RoleDecisions, decision: Decision) -> bool:
    """Whether this execution went through the call: its error in the logs or history, or a DRS job
    started when the action is StartRecovery's or one DRS performs after it."""
    if (decision.follow_on or decision.action == "drs:StartRecovery") and snap.drs_jobs:
        return True
    function = snap.function(role.function) if role.function else None
    texts = list(function.recent_errors) if function else []
    for event in snap.history.events if snap.history else []:
        if "Failed" in event.type or "TimedOut" in event.type:
            texts.append(json.dumps(event.details, default=str))
    if snap.execution_record is not None:  # an orchestrator may write the refusal into its record
        texts.append(json.dumps(snap.execution_record.item, default=str))
    operation = OPERATION_OF.get(decision.action, decision.action.split(":", 1)[-1])
    marks = (decision.action, f"{operation} operation")
    return any(mark in text for text in texts for mark in marks)


def _places(decisions: list[Decision]) -> str:
    places = list(dict.fromkeys(w for d in sorted(decisions, key=lambda d: _importance(d.action))
                                for w in d.where))
    more = f" and {len(places) - 3} more" if len(places) > 3 else ""
    return ", ".join(places[:3]) + more


def _evidence(decisions: list[Decision], role: RoleDecisions) -> list[str]:
    lines = []
    for d in sorted(decisions, key=lambda d: _importance(d.action)):
        line = f"{d.action} on {d.resource}: {d.decision}" + (f" ({d.reason})" if d.reason else "")
        if d.where:
            follow_on = " (a DRS follow-on action)" if d.follow_on else ""
            line += f"; called at {', '.join(d.where[:3])}{follow_on}"
        lines.append(line)
    lines.append(f"decided by {_engine(role)}" + (" on what the function's code calls"
                                                    if role.needs_from == "code" else ""))
    return lines


def _describe(denied: list[Decision], role: RoleDecisions, snap: Snapshot | None) -> tuple[str, Fix]:
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
    return " and ".join(parts), put_role_policy(role.role_arn, role.kind,
                                                [d for d in denied if d.decision != "explicitDeny"],
                                                snap.account if snap is not None else "")


def _some(actions: list[str]) -> str:
    more = f" and {len(actions) - SHOWN} more" if len(actions) > SHOWN else ""
    return ", ".join(actions[:SHOWN]) + more
