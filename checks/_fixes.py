"""The fix commands checks suggest, built from what the finding saw (not a check: the loader skips _ modules).

Each builder returns a Remedy: the AWS CLI commands as argv lists, with the deployment's own names, and the
files they read. drsdoctor prints them; it never runs them.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable

from drsdoctor.checks._common import role_name

from drsdoctor.fixes import FIXES_DIR, Command, Remedy, command, file_arg, remedy, safe_file_name
from drsdoctor.secrets import looks_secret
from drsdoctor.snapshot import Decision, Function, Rule, Snapshot

DEFAULT_BUS = "default"


def _bus(rule: Rule) -> tuple[str, ...]:
    bus = rule.event_bus or DEFAULT_BUS
    return () if bus == DEFAULT_BUS else ("--event-bus-name", bus)


def enable_rule(rule: Rule) -> Remedy:
    return remedy(command("aws", "events", "enable-rule", "--name", rule.name, *_bus(rule)))


def put_schedule(rule: Rule, expression: str = "rate(1 minute)") -> Remedy:
    """PutRule replaces the rule: its state is said again, so the fixed schedule also runs."""
    return remedy(command("aws", "events", "put-rule", "--name", rule.name, "--schedule-expression",
                          expression, "--state", "ENABLED", *_bus(rule)),
                  note="put-rule replaces the rule's settings: its description is not kept")


def statement_id(rule_name: str) -> str:
    """AddPermission's statement id allows letters, digits, - and _ (at most 100)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{rule_name}-invoke")[:100]


def allow_events_invoke(function: Function, rule: Rule) -> Command:
    return command("aws", "lambda", "add-permission", "--function-name", function.name, "--statement-id",
                   statement_id(rule.name), "--action", "lambda:InvokeFunction", "--principal",
                   "events.amazonaws.com", "--source-arn", rule.arn or rule.name)


def restore_schedule(function: Function) -> Remedy:
    """No rule targets the finder at all: a schedule rule, its target, and the permission to invoke."""
    name = f"{function.name}-schedule"[:64]
    rule = Rule(name=name, arn=_rule_arn(function.arn, name))
    target = json.dumps([{"Id": "finder", "Arn": function.arn or function.name}], separators=(",", ":"))
    return remedy(command("aws", "events", "put-rule", "--name", name, "--schedule-expression",
                          "rate(1 minute)", "--state", "ENABLED"),
                  command("aws", "events", "put-targets", "--rule", name, "--targets", target),
                  allow_events_invoke(function, rule),
                  note="the stack's template had this rule: redeploying the stack restores it too")


def _rule_arn(function_arn: str, rule: str) -> str:
    parts = function_arn.split(":")
    return f"arn:{parts[1]}:events:{parts[3]}:{parts[4]}:rule/{rule}" if len(parts) > 4 else rule


def retarget(rule: Rule, target_id: str, function: Function) -> Remedy:
    target = json.dumps([{"Id": target_id, "Arn": function.arn}], separators=(",", ":"))
    return remedy(command("aws", "events", "put-targets", "--rule", rule.name, *_bus(rule), "--targets",
                          target), allow_events_invoke(function, rule))


# ---- IAM -------------------------------------------------------------------------------------------------

POLICY_NAMES = {"orchestration": "drs-orchestration-missing", "finder": "drs-polling-missing",
                "poller": "drs-polling-missing", "statemachine": "invoke-functions"}


def policy_document(decisions: Iterable[Decision]) -> str:
    """One Allow statement per set of resources, each action on the resource it was decided on."""
    resources: dict[str, set[str]] = {}
    for decision in decisions:
        resources.setdefault(decision.action, set()).add(decision.resource or "*")
    grouped: dict[tuple[str, ...], list[str]] = {}
    for action, on in resources.items():
        grouped.setdefault(("*",) if "*" in on else tuple(sorted(on)), []).append(action)
    statements = [{"Effect": "Allow", "Action": sorted(actions),
                   "Resource": list(on) if len(on) > 1 else on[0]} for on, actions in sorted(grouped.items())]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def put_role_policy(role_arn: str, kind: str, decisions: Iterable[Decision],
                    home_account: str = "") -> Remedy:
    """The Allow the role lacks. A role in another account than the execution's (a recovery role) is changed
    there: the note says with which account's credentials (the command names the role, not its account)."""
    parts = role_arn.split(":")
    account = parts[4] if len(parts) > 5 else ""
    elsewhere = (f"run it in account {account}, where the role is (with that account's credentials), not in "
                 f"{home_account}" if account and home_account and account != home_account else "")
    return remedy(command("aws", "iam", "put-role-policy", "--role-name", role_name(role_arn),
                          "--policy-name", POLICY_NAMES.get(kind, f"{kind}-missing"), "--policy-document",
                          policy_document(decisions)), note=elsewhere)


# ---- Lambda ----------------------------------------------------------------------------------------------

def set_variable(function: Function, variable: str, value: str) -> Remedy:
    """UpdateFunctionConfiguration replaces every variable: the command carries them all. When one looks
    secret, drsdoctor does not print it: the first command reads the variables back and changes only this
    one, into a file the second command reads."""
    if not any(looks_secret(name, item) for name, item in function.environment.items()):
        variables = {**function.environment, variable: value}
        environment = json.dumps({"Variables": variables}, separators=(",", ":"))
        return remedy(command("aws", "lambda", "update-function-configuration", "--function-name",
                              function.name, "--environment", environment))
    name = f"{safe_file_name(function.name)}.environment.json"
    read = ("aws", "lambda", "get-function-configuration", "--function-name", function.name, "--query",
            "{Variables: Environment.Variables}", "--output", "json")
    edit = ("jq", "-c", f".Variables[{json.dumps(variable)}] = {json.dumps(value)}")
    line = (f"mkdir -p {FIXES_DIR} && {shlex.join(read)} | {shlex.join(edit)} > "
            f"{shlex.quote(f'{FIXES_DIR}/{name}')}")
    return remedy(command(*read, shell=line),
                  command("aws", "lambda", "update-function-configuration", "--function-name", function.name,
                          "--environment", file_arg(name)),
                  note=f"{function.name}'s environment holds a secret-looking value: drsdoctor does not "
                       "print it, so the first command reads the variables back (it needs jq)")


def read_errors(function_name: str) -> Remedy:
    """No fix can be computed from what was read: the command that shows the errors to fix."""
    return remedy(command("aws", "logs", "filter-log-events", "--log-group-name",
                          f"/aws/lambda/{function_name}", "--filter-pattern",
                          "?ERROR ?Error ?Exception ?Traceback", "--max-items", "20"),
                  note="what the errors say is the fix: drsdoctor could not tell it from them")


_MISSING_VARIABLE = re.compile(r"KeyError: '([A-Za-z_][A-Za-z0-9_]*)'|KeyError\W+([A-Z][A-Z0-9_]+)\b")


def missing_variable_fix(snap: Snapshot, function: Function, texts: Iterable[str]) -> Remedy | None:
    """A function that fails on a KeyError for a variable its environment lacks, while the other functions of
    the deployment agree on that variable's value: that value put back."""
    for text in texts:
        for match in _MISSING_VARIABLE.finditer(text):
            variable = match.group(1) or match.group(2)
            if variable in function.environment:
                continue
            values = {other.environment[variable] for other in snap.functions
                      if other is not function and variable in other.environment}
            if len(values) == 1:
                return set_variable(function, variable, values.pop())
    return None


def state_function(snap: Snapshot, state: str) -> Function | None:
    """The function a Task state invokes, as the topology found it."""
    machine = snap.state_machine.arn if snap.state_machine else ""
    for edge in snap.topology.edges:
        invoked = edge.source == machine and edge.relation == "invokes"
        if invoked and edge.evidence.startswith(f"Task {state} "):
            return snap.function(edge.target)
    return None



# ---- DRS launches ----------------------------------------------------------------------------------------

_ACTION = re.compile(r"\b((?:drs|ec2|iam|kms|ssm):[A-Za-z0-9]+)\b")
_DENIED = ("not authorized", "accessdenied", "unauthorizedoperation", "access denied")
_QUOTA = ("limitexceeded", "limit exceeded", "quota", "insufficientinstancecapacity")
_CONFIG = ("launch template", "launchtemplate", "invalidparameter", "subnet", "security group",
           "instance type", "instancetype", "invalidami", "launch configuration")
_REPLICATION = ("STALLED", "DISCONNECTED", "STOPPED", "PAUSED")
VCPU_QUOTA = "L-1216C47A"  # EC2's Running On-Demand Standard instances (vCPUs), what a recovery launch uses


def launch_failure_fix(snap: Snapshot, server_id: str, reason: str, job_id: str) -> Remedy:
    """The command for the cause a server's launch failure shows: the launch's permissions, its replication,
    a quota, or its launch configuration; never one about another cause. The reason's words first, then
    the replication state DRS reports for the server."""
    text = reason.lower()
    source = next((s for s in snap.source_servers if s.source_server_id == server_id), None)
    state = (source.replication_state if source else "").upper()
    said = next((word for word in _REPLICATION if word.lower() in text), "")
    if any(word in text for word in _DENIED):
        actions = sorted(set(_ACTION.findall(reason)))
        role = snap.role("orchestration")
        function = snap.function_of_kind("orchestration")
        role_arn = role.role_arn if role else (function.role_arn if function else "")
        if actions and role_arn:
            denied = [Decision(action=a, decision="implicitDeny") for a in actions]
            return put_role_policy(role_arn, "orchestration", denied, snap.account)
    elif said or "replication" in text:
        return _replication_fix(server_id, said or state)
    elif any(word in text for word in _QUOTA):
        return remedy(command("aws", "service-quotas", "get-service-quota", "--service-code", "ec2",
                              "--quota-code", VCPU_QUOTA),
                      note="the launch hit an EC2 quota: request an increase (service-quotas "
                           "request-service-quota-increase) to cover the wave's instances")
    elif any(word in text for word in _CONFIG):
        return remedy(command("aws", "drs", "get-launch-configuration", "--source-server-id", server_id),
                      note=f"the launch of {server_id} was refused on its launch settings: correct them with "
                           "aws drs update-launch-configuration, or its EC2 launch template")
    elif state in _REPLICATION:
        return _replication_fix(server_id, state)
    return remedy(command("aws", "drs", "describe-job-log-items", "--job-id", job_id),
                  note="the job's log names why the launch failed")


def _replication_fix(server_id: str, state: str) -> Remedy:
    if state == "STOPPED":
        return remedy(command("aws", "drs", "start-replication", "--source-server-id", server_id),
                      note=f"{server_id}'s replication is stopped; once it is CONTINUOUS, run the wave again")
    return remedy(command("aws", "drs", "retry-data-replication", "--source-server-id", server_id),
                  note=f"{server_id}'s replication is {state or 'not healthy'}: this restarts it (DRS marks "
                       "the call deprecated; it is still the one that does this); if it stalls again, the "
                       "agent cannot reach its replication server (TCP 1500). Once it is CONTINUOUS, run the "
                       "wave again")
