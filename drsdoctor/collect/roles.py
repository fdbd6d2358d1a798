"""Each role's policies and the decision for every action its function's code calls, on the resources the
code names (drsdoctor.iam.code_needs): AWS's iam:SimulatePrincipalPolicy where the caller may use it, else
drsdoctor's own evaluator. Calls made with an assumed role's credentials are that role's; the function's role
needs sts:AssumeRole on it. A function whose code cannot be read is judged on what its kind needs."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from drsdoctor.aws.failures import IN_WORDS, AwsFailure, classify
from drsdoctor.aws.session import BudgetExhausted
from drsdoctor.collect import code
from drsdoctor.collect.gather import Gatherer
from drsdoctor.errors import AwsCallError, InputError
from drsdoctor.iam.code_needs import authorised_on
from drsdoctor.snapshot import Decision, Function, RoleDecisions, Snapshot


@dataclass
class _Ask:
    action: str
    resource: str
    passed_to: str = ""  # iam:PassRole's iam:PassedToService
    where: tuple[str, ...] = ()
    follow_on: bool = False


@dataclass
class _Role:
    """One role to judge and what it is asked."""

    kind: str
    role_arn: str
    function: str | None
    asks: list[_Ask] = field(default_factory=list)
    needs_from: str = "kind"
    assumed_by: str = ""
    unreadable: str = ""


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
    """Fill snap.role_decisions: one RoleDecisions per role a function runs with or assumes, and the state
    machine's; each role read once. DRS actions are decided on one of the wave's source servers and jobs."""
    judged = [item for item in snap.functions if item.kind != "other" and item.role_arn]
    codes = gather.in_parallel([partial(code.read, gather, item) for item in judged])
    names = {"partition": snap.target.split(":")[1] if snap.target.startswith("arn:") else "aws",
             "region": snap.region, "account": snap.account, "source_server": source_server or "*",
             "job": job or "*"}
    wanted: list[_Role] = []
    for item, found in zip(judged, codes, strict=True):
        wanted += _from_code(snap, item, found, names) if found.reading is not None else \
            [_from_kind(snap, item, found.why_not, names)]
    if snap.state_machine and snap.state_machine.role_arn:
        wanted.append(_state_machine(snap, names))
    if not wanted:
        return
    role_arns = list(dict.fromkeys(role.role_arn for role in wanted if not role.unreadable))
    loaded = dict(zip(role_arns, gather.in_parallel([partial(_load, gather, snap, arn) for arn in role_arns]),
                      strict=True))
    # One simulator, and each (role, actions, resource) decided once, for every execution of the machine.
    simulator: _Simulator = gather.once("iam simulator", lambda: _Simulator(gather.session, gather.region))

    def decide(role: _Role) -> RoleDecisions | None:
        answer = RoleDecisions(kind=role.kind, role_arn=role.role_arn, function=role.function,
                               needs_from=role.needs_from, assumed_by=role.assumed_by,
                               unreadable=role.unreadable)
        if role.unreadable:
            return answer
        principal, why_not = loaded[role.role_arn]
        if principal is None:
            if not role.assumed_by:  # a function's own role: the fact error says what could not be read
                return None
            answer.unreadable = why_not
            return answer
        if principal.trust is not None:
            answer.trust_policy = json.dumps(principal.trust, sort_keys=True)
        # AWS's simulator answers for its own account's roles: another account's are decided here
        foreign = _account(role.role_arn) not in ("", snap.account)
        asked: dict[tuple[str, str], list[_Ask]] = {}
        for ask in role.asks:
            asked.setdefault((ask.resource, ask.passed_to), []).append(ask)
        engines: set[str] = set()
        for (resource, passed_to), asks in asked.items():
            context = {"iam:PassedToService": passed_to} if passed_to else {}
            unique = list(dict.fromkeys(ask.action for ask in asks))
            key = json.dumps(["decide", role.role_arn, unique, resource, context], sort_keys=True)
            ask_aws = partial(_local, principal, unique, resource, context) if foreign else \
                partial(simulator.decide, principal, unique, resource, context)
            engine, answers = gather.once(key, ask_aws)
            engines.add(engine)
            for a in answers:
                mine = [ask for ask in asks if ask.action == a.action]
                where = list(dict.fromkeys(w for ask in mine for w in ask.where))
                answer.decisions.append(Decision(action=a.action, decision=a.decision, resource=a.resource,
                                                 reason=_reason(a), where=where,
                                                 follow_on=any(ask.follow_on for ask in mine)))
        answer.engine = "simulate-principal-policy" if engines == {"simulate-principal-policy"} else "local"
        return answer

    # Local evaluation is CPU work: the first (which may probe AWS) goes alone, the rest in parallel.
    first = decide(wanted[0])
    rest = gather.in_parallel([partial(decide, role) for role in wanted[1:]])
    snap.role_decisions = [found for found in [first, *rest] if found is not None]


def _from_code(snap: Snapshot, item: Function, found: code.Code, names: dict[str, str]) -> list[_Role]:
    """The function's role asked for what its code calls with its own credentials (and the Lambda runtime's
    logs); each role it assumes asked for the calls made with that role's credentials."""
    from drsdoctor.iam.code_needs import Place, drs_region, resource_arn, told

    reading, env = found.reading, item.environment
    place = Place(names["partition"], snap.region, snap.account)
    local = {**names, "function": item.name, "drs_region": drs_region(reading, env) or snap.region}

    def event(path: tuple[str, ...]) -> str | None:
        return input_value(snap, path)

    def ask(need: Any, role_arn: str = "") -> _Ask:
        names = local
        if role_arn and _account(role_arn) not in ("", snap.account):  # DRS acts in the role's account
            names = {**local, "account": _account(role_arn)}
        resource = resource_arn(need, env, place, event) or authorised_on(need.action, names)
        passed_to = "ec2.amazonaws.com" if need.action == "iam:PassRole" else ""
        return _Ask(need.action, resource, passed_to, need.where, need.follow_on)

    own = _Role(item.kind, item.role_arn, item.name, needs_from="code")
    own.asks = [ask(need) for need in reading.needs if not need.assumed] + _runtime_asks(item, local)
    roles = [own]
    assumed: dict[str, _Role] = {}
    for need in reading.needs:
        if not need.assumed:
            continue
        arn = told(need.role, env, event)
        key = arn or repr(need.role)
        if key not in assumed:
            why = "" if arn else (f"the code assumes a role ({_describe(need.role)}) whose ARN could not be "
                                  "told from the deployment or this execution's input")
            assumed[key] = _Role(item.kind, arn or f"role assumed by {item.name}", item.name,
                                 needs_from="code", assumed_by=item.role_arn, unreadable=why)
        assumed[key].asks.append(ask(need, arn or ""))
    return roles + list(assumed.values())


def _from_kind(snap: Snapshot, item: Function, why_not: str, names: dict[str, str]) -> _Role:
    """Without its code, a function's role is judged on what its kind of function needs, where the resource
    can be told without knowing the orchestrator's names."""
    from drsdoctor.iam.drs_needs import needs_for

    local = {**names, "function": item.name, "drs_region": snap.region}
    role = _Role(item.kind, item.role_arn, item.name)
    untold = []
    for need in needs_for(item.kind):
        resource = authorised_on(need.action, local) if need.resource == "*" or need.action.startswith(
            ("drs:", "logs:", "iam:")) else need.resource_for(local)
        if resource is None:
            untold.append(need.action)
            continue
        passed_to = "ec2.amazonaws.com" if need.action == "iam:PassRole" else ""
        role.asks.append(_Ask(need.action, resource, passed_to, follow_on=need.follow_on))
    not_judged = f"; not judged without it: {', '.join(dict.fromkeys(untold))}" if untold else ""
    snap.notes.append(f"the code of function {item.name} could not be read ({why_not}): its role is judged "
                      f"on what a {item.kind} function usually needs{not_judged}")
    return role


def _state_machine(snap: Snapshot, names: dict[str, str]) -> _Role:
    """The state machine's role must reach every function its Task states call."""
    from drsdoctor.iam.drs_needs import needs_for

    assert snap.state_machine is not None
    called = [item.name for item in snap.functions if item.kind == "orchestration"] or [""]
    role = _Role("statemachine", snap.state_machine.role_arn, None)
    for need in needs_for("statemachine"):
        for target in called if "{function}" in need.resource else called[:1]:
            resource = need.resource_for({**names, "function": target}) or "*"
            role.asks.append(_Ask(need.action, resource))
    return role


def _runtime_asks(item: Function, names: dict[str, str]) -> list[_Ask]:
    """What Lambda itself does with the function's role: write its logs."""
    from drsdoctor.iam.drs_needs import needs_for

    return [_Ask(need.action, authorised_on(need.action, names)) for need in needs_for(item.kind)
            if need.action.startswith("logs:")]


def input_value(snap: Snapshot, path: tuple[str, ...]) -> str | None:
    """A text at `path` in this execution's input, or in the input of one of its tasks."""
    documents = [snap.execution.input] if snap.execution and snap.execution.input else []
    for event in snap.history.events if snap.history else []:
        documents += [value for key, value in event.details.items() if key in ("input", "parameters")]
    for document in documents:
        try:
            value: Any = json.loads(document) if isinstance(document, str) else document
        except ValueError:
            continue
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def _describe(value: Any) -> str:
    from drsdoctor.iam.code_calls import Env, Input, Text

    if isinstance(value, Env):
        return f"environment variable {value.name}"
    if isinstance(value, Input):
        return "the input's " + ".".join(value.path)
    if isinstance(value, Text):
        return value.value
    return "a value the code computes"


def _account(arn: str) -> str:
    return "".join(arn.split(":")[4:5])


def _local(principal: Any, actions: list[str], resource: str,
           context: dict[str, Any]) -> tuple[str, list[Any]]:
    from drsdoctor.iam.simulator import simulate

    return "local", simulate(principal, actions, resource, context)


def _load(gather: Gatherer, snap: Snapshot, role_arn: str) -> tuple[Any, str]:
    """The role's policies (read in the role's own account), or None and why not."""
    from drsdoctor.collect.xaccount import session_for
    from drsdoctor.iam.principal import load_role

    session, unreachable = session_for(gather, snap, role_arn)
    if session is None:
        return None, f"its policies could not be read: {unreachable}"
    try:
        return gather.once(f"role {role_arn}",
                           lambda: load_role(session.client("iam", gather.region), role_arn)), ""
    except AwsCallError as failure:
        # the message alone: the fact error names the call and the role itself (no "GetRole on X failed:
        # GetRole on  failed:"); said in words where the kind is fixed outside AWS (a timeout, a throttle)
        words = getattr(failure, "kind", "") in IN_WORDS
        gather.record("role_decisions", role_arn, AwsFailure(
            "iam", failure.operation, role_arn, failure.code,
            str(failure) if words else getattr(failure, "message", str(failure)), failure.permission,
            classify(failure.code)))
        need = f" (needs {failure.permission})" if failure.permission else ""
        return None, f"its policies could not be read: {failure.code}{need}"
    except InputError as bad_policy:  # a policy our parser cannot read: say so, decide nothing for it
        gather.snapshot.notes.append(f"the policies of {role_arn} could not be read: {bad_policy}")
        return None, f"its policies could not be read: {bad_policy}"


def _reason(answer: Any) -> str:
    matched = getattr(answer, "matched_statements", [])
    if matched:
        return "; ".join(f"{m.policy} {m.statement}".strip() for m in matched)
    return "no statement allows it" if answer.decision == "implicitDeny" else ""
