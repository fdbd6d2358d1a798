"""`drsdoctor iam simulate`: would these policies allow these actions? Answered offline, as AWS would."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from drsdoctor import exitcodes
from drsdoctor.commands.options import aws_options, common_options, emit, output_options, timeout_option
from drsdoctor.errors import InputError

ROLE_KINDS = ("orchestration", "finder", "poller", "statemachine")


@click.group("iam", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor iam simulate --policy examples/policies/drs-poller.json --action drs:DescribeJobs"
))
def iam() -> None:
    """Offline IAM policy simulation."""


def parse_context(pairs: tuple[str, ...]) -> dict[str, str | list[str]]:
    """KEY=VALUE pairs; a key given twice becomes a multivalued key."""
    context: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--context {pair!r} must be KEY=VALUE (e.g. aws:SourceIp=10.0.0.1)")
        if key in context:
            previous = context[key]
            context[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            context[key] = value
    return context


def parse_parameters(pairs: tuple[str, ...]) -> dict[str, str]:
    """NAME=VALUE template parameters; pseudo parameters too (AWS::AccountId, AWS::Region)."""
    parameters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--parameter {pair!r} must be NAME=VALUE (e.g. AWS::AccountId=111122223333)")
        parameters[name.strip()] = value
    return parameters


@iam.command("simulate", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor iam simulate --policy examples/policies/drs-poller.json --action drs:DescribeJobs\n"
    "  drsdoctor iam simulate --policy examples/policies/drs-poller.json --role-kind poller"
))
@click.option("--policy", "policy_files", multiple=True, type=click.Path(dir_okay=False),
              help="Identity-based policy JSON file (repeatable).")
@click.option("--boundary", "boundary_file", type=click.Path(dir_okay=False),
              help="Permissions boundary file.")
@click.option("--scp", "scp_files", multiple=True, type=click.Path(dir_okay=False),
              help="Service control policy file (repeatable; taken as attached at one level).")
@click.option("--resource-policy", "resource_files", multiple=True, type=click.Path(dir_okay=False),
              help="Resource-based policy file (repeatable).")
@click.option("--session-policy", "session_file", type=click.Path(dir_okay=False),
              help="Session policy file.")
@click.option("--action", "actions", multiple=True,
              help="Action to simulate, e.g. drs:StartRecovery (repeatable).")
@click.option("--role-kind", type=click.Choice(ROLE_KINDS),
              help="Simulate every action this orchestrator role needs (DRS follow-on actions included).")
@click.option("--code", "code_path", type=click.Path(),
              help="A function's Python code (directory or zip): simulate every AWS call it makes.")
@click.option("--handler", help="The code's handler (module.function) for --code; with --template, the "
                                "role's function's Handler.")
@click.option("--resource", default="*", show_default=True, help="Resource ARN the actions act on.")
@click.option("--context", "context_pairs", multiple=True, metavar="KEY=VALUE",
              help="Request context value (repeat a key for several values).")
@click.option("--role-arn", help="Load a deployed role's policies (read-only IAM calls).")
@click.option("--template", "template_file", type=click.Path(dir_okay=False),
              help="CloudFormation template holding the role (with --role).")
@click.option("--role", "role_logical_id", help="Logical id of the AWS::IAM::Role in --template.")
@click.option("--parameter", "parameter_pairs", multiple=True, metavar="NAME=VALUE",
              help="Template parameter or pseudo parameter (AWS::AccountId=...) for --template.")
@click.option("--principal-arn", help="Caller ARN matched against resource policies' Principal.")
@aws_options
@timeout_option
@output_options("text", "json")
@common_options
def simulate_command(policy_files: tuple[str, ...], boundary_file: str | None, scp_files: tuple[str, ...],
                     resource_files: tuple[str, ...], session_file: str | None, actions: tuple[str, ...],
                     role_kind: str | None, code_path: str | None, handler: str | None, resource: str,
                     context_pairs: tuple[str, ...],
                     role_arn: str | None, template_file: str | None, role_logical_id: str | None,
                     parameter_pairs: tuple[str, ...], principal_arn: str | None,
                     region: str | None, profile: str | None, endpoint_url: str | None,
                     budget: float | None, output_format: str, output_path: str | None,
                     verbose: int) -> None:
    """Decide actions against policies as AWS would: allowed, explicitDeny or implicitDeny.

    With --template and --role, --role-kind and --code decide each action on the template's own resources
    (the tables and functions the role's function is configured with).

    Exit 0 when every action is allowed, 1 when any is not, 2 on bad input, 3 when --role-arn could
    not be read (one line says why).
    """
    from drsdoctor.iam.evaluate import PolicySet
    from drsdoctor.iam.policy import load_policy_file
    from drsdoctor.iam.principal import Principal, load_role, load_role_from_template
    from drsdoctor.iam.simulator import simulate

    if not actions and not role_kind and not code_path:
        raise InputError("give --action (repeatable) or --role-kind (or --code DIR|ZIP)")
    if bool(template_file) != bool(role_logical_id):
        raise InputError("--template and --role go together: the template file and the role's logical id")
    if not (policy_files or resource_files or role_arn or template_file):
        raise InputError("nothing to simulate: give --policy, --resource-policy, --role-arn "
                         "or --template with --role")
    context = parse_context(context_pairs)
    parameters = parse_parameters(parameter_pairs)
    asks = _asks(actions, role_kind, code_path, handler, resource, template_file, role_logical_id, parameters)

    iam_client, session = None, None
    if role_arn:
        from drsdoctor.aws.session import AwsSettings
        from drsdoctor.commands.diagnose import budgeted_session

        session = budgeted_session(AwsSettings(region=region, profile=profile, endpoint_url=endpoint_url),
                                   budget)
        iam_client = session.client("iam", region or "us-east-1")
        principal = load_role(iam_client, role_arn)
    elif template_file and role_logical_id:
        principal = load_role_from_template(template_file, role_logical_id, parameters)
    else:
        principal = Principal(arn=principal_arn or "", name="policies", policies=PolicySet(), source="files")
    extra = PolicySet(
        identity=[load_policy_file(path) for path in policy_files],
        resource=[load_policy_file(path, "resource") for path in resource_files],
        boundary=load_policy_file(boundary_file, "boundary") if boundary_file else None,
        scps=[load_policy_file(path, "scp") for path in scp_files],
        session=load_policy_file(session_file, "session") if session_file else None,
    )
    policies = principal.policies
    policies.identity += extra.identity
    policies.resource += extra.resource
    policies.scps += extra.scps
    policies.boundary = extra.boundary or policies.boundary
    policies.session = extra.session or policies.session
    if principal_arn:
        principal.arn = principal_arn
    # AWS only knows the deployed role: any policy given as a file means the answer must be ours
    files_given = bool(policy_files or resource_files or boundary_file or scp_files or session_file)
    decisions = _decide(principal, asks, context, None if files_given else iam_client, simulate)
    needs = [ask.need for ask in asks]
    if verbose and session is not None:
        from drsdoctor.textsafe import safe

        for record in session.call_log.records:
            click.echo(safe(record.line()), err=True)  # an error code is AWS's text: never obeyed

    if output_format == "json":
        emit(json.dumps(_json(principal, decisions, needs), indent=2), output_path)
    else:
        emit(_text(principal, decisions, needs), output_path)
    if not all(decision.allowed for decision in decisions):
        # SystemExit, not click's Exit: `python -m drsdoctor` drops main()'s return value
        sys.exit(exitcodes.PROBLEMS)


simulate_command.name = "simulate"


@dataclass
class _Ask:
    """One action to decide, on the first of its resources that allows it, and why it is asked."""

    action: str
    resources: list[str]
    need: Any = None  # drs_needs.Need: why (a role kind's reason, or where the code calls it)


def _asks(actions: tuple[str, ...], role_kind: str | None, code_path: str | None, handler: str | None,
          resource: str, template_file: str | None, role_logical_id: str | None,
          parameters: dict[str, str]) -> list[_Ask]:
    from drsdoctor.iam.drs_needs import Need, needs_for

    found = None
    if template_file and role_logical_id and (role_kind or code_path):
        from drsdoctor.iam.principal import _load_template
        from drsdoctor.iam.template_needs import template_resources

        found = template_resources(_load_template(template_file), role_logical_id, parameters)
    asks = [_Ask(action, [resource]) for action in dict.fromkeys(actions)]
    seen = set(actions)
    for need in needs_for(role_kind) if role_kind else []:
        candidates = found.candidates(need) if found else [resource]
        if found is None and need.action in seen:  # one decision an action, as before: all on --resource
            continue
        seen.add(need.action)
        asks.append(_Ask(need.action, candidates, need))
    if code_path:
        from drsdoctor.iam.code_needs import read_code

        entry = handler or (found.function.handler if found and found.function else "")
        reading = read_code(code_path, entry)
        for problem in reading.problems:
            click.echo(f"note: {problem}", err=True)
        for called in reading.needs:
            more = f" and {len(called.where) - 3} more" if len(called.where) > 3 else ""
            assumed = " with an assumed role's credentials" if called.assumed else ""
            on = found.code_resource(called) if found else resource
            named = ", ".join(f"{k}={_told(v)}" for k, v in called.resource)
            why = f"the code calls it{assumed} at {', '.join(called.where[:3])}{more}" + (
                f" ({named})" if named else "")
            asks.append(_Ask(called.action, [on], Need(called.action, why, "code", on, called.follow_on)))
    return asks


def _told(value: Any) -> str:
    from drsdoctor.iam.code_calls import Env, Input, Text

    if isinstance(value, Env):
        return f"${value.name}"
    if isinstance(value, Text):
        return value.value
    if isinstance(value, Input):
        return "input." + ".".join(value.path)
    return "?"


def _decide(principal: Any, asks: list[_Ask], context: dict[str, Any], iam_client: Any,
            simulate: Any) -> list[Any]:
    """Each ask decided on its first resource (asks alike asked together); one denied there is asked again
    on its other resources, and the first that allows it answers."""
    def context_for(action: str) -> dict[str, Any]:
        if action == "iam:PassRole" and "iam:PassedToService" not in context:  # DRS passes it to EC2
            return {**context, "iam:PassedToService": "ec2.amazonaws.com"}
        return context

    groups: dict[str, list[int]] = {}
    for index, ask in enumerate(asks):
        key = json.dumps([ask.resources[0], context_for(ask.action)], sort_keys=True)
        groups.setdefault(key, []).append(index)
    decisions: list[Any] = [None] * len(asks)
    for indexes in groups.values():
        first = asks[indexes[0]]
        answers = simulate(principal, [asks[i].action for i in indexes], first.resources[0],
                           context_for(first.action), iam_client)
        for index, answer in zip(indexes, answers, strict=True):
            decisions[index] = answer
    for index, ask in enumerate(asks):
        for other in ask.resources[1:]:
            if decisions[index].allowed:
                break
            [again] = simulate(principal, [ask.action], other, context_for(ask.action), iam_client)
            decisions[index] = again if again.allowed else decisions[index]
    return decisions


def _json(principal: Any, decisions: list[Any], needs: list[Any]) -> dict[str, Any]:
    results = []
    for decision, need in zip(decisions, needs, strict=True):
        result = decision.to_aws_json()
        if need is not None:
            result["Need"] = {"Why": need.why, "Source": need.source, "FollowOn": need.follow_on,
                              "Resource": need.resource}
        results.append(result)
    # SimulatePrincipalPolicy's response shape, plus which engine answered and for whom
    return {"schema": "drsdoctor.iam/1", "EvaluationResults": results, "IsTruncated": False,
            "Engine": decisions[0].engine if decisions else "local",
            "Principal": {"Arn": principal.arn, "Source": principal.source,
                          "Unresolved": principal.unresolved}}


def _text(principal: Any, decisions: list[Any], needs: list[Any]) -> str:
    width = max([len(d.action) for d in decisions] + [6])
    lines = [f"{'ACTION':<{width}}  {'DECISION':<12}  MATCHED"]
    for decision, need in zip(decisions, needs, strict=True):
        # a policy file is named by its file name: the table stays readable, the JSON keeps the path
        matched = ", ".join(f"{Path(m.policy).name} {m.statement}".strip()
                            + (f" (line {m.line})" if m.line else "")
                            for m in decision.matched_statements) or "-"
        marker = " [follow-on]" if need is not None and need.follow_on else ""
        lines.append(f"{decision.action:<{width}}  {decision.decision:<12}  {matched}{marker}")
        if not decision.allowed and need is not None:
            lines.append(f"{'':<{width}}  needed: {need.why} ({need.source})")
            if need.resource != "*" and decision.resource == "*":
                # a role scoped to its tables is right to refuse `*`: say which ARN to ask about
                lines.append(f"{'':<{width}}  needed on {need.resource}: rerun with --resource ARN")
        if decision.missing_context_values:
            lines.append(f"{'':<{width}}  missing context: {', '.join(decision.missing_context_values)}")
        if decision.boundary_decision not in (None, "allowed") and decision.decision != "explicitDeny":
            lines.append(f"{'':<{width}}  not allowed by the permissions boundary")
        if decision.organizations_decision not in (None, "allowed") and decision.decision != "explicitDeny":
            lines.append(f"{'':<{width}}  not allowed by the service control policies")
    denied = [d for d in decisions if not d.allowed]
    engine = decisions[0].engine if decisions else "local"
    resources = {d.resource for d in decisions}
    where = next(iter(resources)) if len(resources) == 1 else "the resources they act on"
    summary = (f"{len(decisions) - len(denied)} of {len(decisions)} actions allowed on {where} "
               f"(engine: {engine})")
    if denied:
        summary += f"; not allowed: {', '.join(d.action for d in denied)}"
    for item in principal.unresolved:
        lines.append(f"note: policy {item} could not be read offline and was not evaluated")
    lines.append(summary)
    return "\n".join(lines)
