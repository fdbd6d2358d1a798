"""`drsdoctor permissions`: the least-privilege read-only IAM policy drsdoctor needs, derived from what
the Snapshot's facts declare (and what other commands declare), never from a hand-written list.

Required: every action some command calls and cannot do without (denied, a check reports `error` naming
it). Optional: actions a fact's collector uses when allowed and does without when denied (a note says what
was left out); `--include-optional` grants them too.
"""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from typing import Any

import click

from drsdoctor.commands.options import common_options, emit

# Modules that may declare extra read-only actions their commands call, as READ_ACTIONS.
DECLARING_MODULES = ("drsdoctor.diff", "drsdoctor.iam", "drsdoctor.collect")


def optional_actions() -> dict[str, str]:
    """Each optional action -> what it adds (the facts' declarations; an action optional for one fact is
    optional everywhere: the commands that list it, like `iam simulate --role-arn`, also do without it)."""
    from drsdoctor.snapshot import optional_fact_actions

    return {action: why for actions in optional_fact_actions().values() for action, why in actions.items()}


def required_actions() -> dict[str, list[str]]:
    """Each action drsdoctor cannot do without -> the facts or modules that need it."""
    from drsdoctor.snapshot import fact_actions

    optional = optional_actions()
    needed: dict[str, list[str]] = defaultdict(list)
    for fact, actions in fact_actions().items():
        for action in actions:
            if action not in optional:
                needed[action].append(f"snapshot.{fact}")
    for name in DECLARING_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for action in getattr(module, "READ_ACTIONS", ()):
            if action not in optional:
                needed[action].append(name)
    return dict(needed)


def policy_document(needed: dict[str, Any]) -> dict[str, Any]:
    """One statement per service, actions sorted; Resource * because Describe/List calls take no ARN."""
    by_service: dict[str, list[str]] = defaultdict(list)
    for action in needed:
        by_service[action.split(":", 1)[0]].append(action)
    statements = [{
        "Sid": "DrsdoctorRead" + "".join(part.capitalize() for part in service.split("-")),
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": "*",
    } for service, actions in sorted(by_service.items())]
    return {"Version": "2012-10-17", "Statement": statements}


def policy(include_optional: bool = False) -> dict[str, Any]:
    """The policy `drsdoctor permissions` prints."""
    needed: dict[str, Any] = dict(required_actions())
    if include_optional:
        needed.update(optional_actions())
    return policy_document(needed)


def _text(include_optional: bool) -> str:
    needed = required_actions()
    lines = [f"{action:<45} for {', '.join(sorted(set(why)))}" for action, why in sorted(needed.items())]
    lines.append(f"{len(needed)} read-only actions")
    optional = optional_actions()
    heading = "optional, granted" if include_optional else "optional (--include-optional grants them)"
    lines += ["", f"{heading}: diagnose does without each, with a note, and the report is still complete"]
    lines += [f"{action:<45} {why}" for action, why in sorted(optional.items())]
    return "\n".join(lines)


@click.command("permissions")
@common_options
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the policy to this file instead of stdout.")
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="json",
              show_default=True,
              help="json: the policy document; text: each action and what needs it, then the optional "
                   "actions and what each adds.")
@click.option("--include-optional", is_flag=True,
              help="Also grant the optional actions (AWS's own policy simulator, which sees SCPs; tag and "
                   "table listings that spare calls or sharpen suggestions): see --format text.")
def permissions(output_format: str, output_path: str | None, include_optional: bool, verbose: int) -> None:
    """Print the least-privilege read-only IAM policy drsdoctor needs (a JSON policy document)."""
    if output_format == "text":
        emit(_text(include_optional), output_path)
        return
    emit(json.dumps(policy(include_optional), indent=2), output_path)
