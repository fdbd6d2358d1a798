"""Each role's policies and the decision for every action its kind of work needs: AWS's
iam:SimulatePrincipalPolicy where the caller may use it, else drsdoctor's own evaluator."""

from __future__ import annotations

import json
import threading
from functools import partial
from typing import Any

from drsdoctor.aws.failures import AwsFailure, classify
from drsdoctor.aws.session import BudgetExhausted
from drsdoctor.collect.gather import Gatherer
from drsdoctor.errors import AwsCallError, InputError
from drsdoctor.snapshot import Decision, RoleDecisions, Snapshot

# The resource placeholders of drsdoctor.iam's needs, and the environment variables that fill them.
NAME_VARIABLES = {"plans_table": "PLANS_TABLE", "groups_table": "GROUPS_TABLE",
                  "history_table": "EXECUTION_TABLE", "status_index": "STATUS_INDEX",
                  "poller_function": "POLLER_FUNCTION"}


# DRS authorises these on the source server they act on (Service Authorization Reference, resource types).
SOURCE_SERVER_ACTIONS = {"drs:StartRecovery", "drs:CreateRecoveryInstanceForDrs", "drs:ListTagsForResource"}
RECOVERY_ROLE = "AWSElasticDisasterRecoveryRecoveryInstanceRole"


class _Simulator:
    """Asks AWS once; when SimulatePrincipalPolicy cannot answer (not permitted, not implemented), every
    later question goes straight to the local evaluator instead of failing again with retries."""

    def __init__(self, session: Any, region: str) -> None:
        self.session, self.region = session, region
        self.engine: str | None = None
        self.lock = threading.Lock()

    def decide(self, principal: Any, actions: list[str], resource: str,
               context: dict[str, Any]) -> tuple[str, list[Any]]:
        from drsdoctor.iam.simulator import simulate

        if self.engine is None:
            with self.lock:
                if self.engine is None:
                    probe = self.session.client("iam", self.region, attempts=1)
                    try:
                        answers = simulate(principal, actions, resource, context, iam_client=probe)
                    except Exception:  # an endpoint that answers garbage (moto: HTML 500) cannot simulate
                        answers = simulate(principal, actions, resource, context)
                    self.engine = "simulate-principal-policy" if _by_aws(answers) else "local"
                    return self.engine, answers
        client = self.session.client("iam", self.region) if self.engine != "local" else None
        try:
            answers = simulate(principal, actions, resource, context, iam_client=client)
        except BudgetExhausted:  # diagnose --timeout ran out: the role's policies are read, decide here
            answers = simulate(principal, actions, resource, context)
        return ("simulate-principal-policy" if _by_aws(answers) else "local"), answers


def _by_aws(answers: list[Any]) -> bool:
    return bool(answers) and all(answer.engine == "aws" for answer in answers)


def gather_decisions(gather: Gatherer, snap: Snapshot, source_server: str | None = None,
                     job: str | None = None) -> None:
    """Fill snap.role_decisions: one RoleDecisions per (role kind, function), each role read once.
    DRS actions are decided on one of the wave's source servers and jobs when they are known."""
    from drsdoctor.iam.drs_needs import needs_for

    wanted: list[tuple[str, str, str | None]] = [  # kind, role ARN, function
        (item.kind, item.role_arn, item.name) for item in snap.functions
        if item.kind != "other" and item.role_arn]
    if snap.state_machine and snap.state_machine.role_arn:
        wanted.append(("statemachine", snap.state_machine.role_arn, None))
    if not wanted:
        return
    role_arns = list(dict.fromkeys(arn for _, arn, _ in wanted))
    principals = dict(zip(role_arns, gather.in_parallel([partial(_load, gather, arn) for arn in role_arns]),
                          strict=True))
    names = _names(snap)
    names.update({key: value for key, value in (("source_server", source_server), ("job", job)) if value})
    called = [item.name for item in snap.functions if item.kind == "orchestration"]
    # One simulator, and each (role, actions, resource) decided once, for every execution of the machine.
    simulator: _Simulator = gather.once("iam simulator", lambda: _Simulator(gather.session, gather.region))

    def decide(kind: str, role_arn: str, function: str | None) -> RoleDecisions | None:
        principal = principals.get(role_arn)
        if principal is None:
            return None
        # The state machine's role must reach every function its Task states call.
        targets = [function] if function else called or [""]
        asked: dict[tuple[str, str], list[str]] = {}  # (resource, PassRole's service) -> actions
        for need in needs_for(kind):
            for target in targets if "{function}" in need.resource else targets[:1]:
                resource, passed_to = _asked({**names, "function": target}, need)
                asked.setdefault((resource, passed_to), []).append(need.action)
        engines: set[str] = set()
        decisions: list[Decision] = []
        for (resource, passed_to), actions in asked.items():
            context = {"iam:PassedToService": passed_to} if passed_to else {}
            unique = list(dict.fromkeys(actions))
            key = json.dumps(["decide", role_arn, unique, resource, context], sort_keys=True)
            engine, answers = gather.once(key, partial(simulator.decide, principal, unique, resource,
                                                       context))
            engines.add(engine)
            decisions.extend(Decision(action=a.action, decision=a.decision, resource=a.resource,
                                      reason=_reason(a)) for a in answers)
        engine = "simulate-principal-policy" if engines == {"simulate-principal-policy"} else "local"
        return RoleDecisions(kind=kind, role_arn=role_arn, engine=engine, function=function,
                             decisions=decisions)

    # Local evaluation is CPU work: the first (which may probe AWS) goes alone, the rest in parallel.
    first = decide(*wanted[0])
    rest = gather.in_parallel([partial(decide, *want) for want in wanted[1:]])
    snap.role_decisions = [found for found in [first, *rest] if found is not None]


def _asked(names: dict[str, str], need: Any) -> tuple[str, str]:
    """The resource AWS authorises the action on (not `*` where the service names one), and for
    iam:PassRole the service the role is passed to: what the role's statements must match."""
    drs = f"arn:{names['partition']}:drs:{names['drs_region']}:{names['account']}"
    if need.action in SOURCE_SERVER_ACTIONS:
        return f"{drs}:source-server/{names.get('source_server', '*')}", ""
    if need.action == "drs:DescribeJobLogItems":
        return f"{drs}:job/{names.get('job', '*')}", ""
    if need.action.startswith("logs:") and names.get("function"):
        return (f"arn:{names['partition']}:logs:{names['region']}:{names['account']}:log-group:/aws/lambda/"
                f"{names['function']}:*"), ""
    if need.action == "iam:PassRole":  # DRS passes its recovery instance role to EC2
        return f"arn:{names['partition']}:iam::{names['account']}:role/service-role/{RECOVERY_ROLE}", \
            "ec2.amazonaws.com"
    return need.resource_for(names) or "*", ""


def _load(gather: Gatherer, role_arn: str) -> Any:
    from drsdoctor.iam.principal import load_role

    try:
        return gather.once(f"role {role_arn}",
                           lambda: load_role(gather.session.client("iam", gather.region), role_arn))
    except AwsCallError as failure:
        gather.record("role_decisions", role_arn, AwsFailure(
            "iam", failure.operation, role_arn, failure.code, str(failure), failure.permission,
            classify(failure.code)))
        return None
    except InputError as bad_policy:  # a policy our parser cannot read: say so, decide nothing for it
        gather.snapshot.notes.append(f"the policies of {role_arn} could not be read: {bad_policy}")
        return None


def _names(snap: Snapshot) -> dict[str, str]:
    names = {"partition": snap.target.split(":")[1] if snap.target.startswith("arn:") else "aws",
             "region": snap.region, "account": snap.account}
    regions = [f.environment["DRS_REGION"] for f in snap.functions if f.environment.get("DRS_REGION")]
    names["drs_region"] = regions[0] if regions else snap.region
    for placeholder, variable in NAME_VARIABLES.items():
        value = next((f.environment[variable] for f in snap.functions if f.environment.get(variable)), None)
        if value:
            names[placeholder] = value.split(":")[-1] if value.startswith("arn:") else value
    return names


def _reason(answer: Any) -> str:
    matched = getattr(answer, "matched_statements", [])
    if matched:
        return "; ".join(f"{m.policy} {m.statement}".strip() for m in matched)
    return "no statement allows it" if answer.decision == "implicitDeny" else ""
