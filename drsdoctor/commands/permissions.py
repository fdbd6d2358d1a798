"""`drsdoctor permissions`: the least-privilege read-only IAM policy drsdoctor needs, derived from what
the Snapshot's facts declare (and what other commands declare), never from a hand-written list."""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from typing import Any

import click

from drsdoctor.commands.options import common_options, emit

# Modules that may declare extra read-only actions their commands call, as READ_ACTIONS.
DECLARING_MODULES = ("drsdoctor.diff", "drsdoctor.iam", "drsdoctor.collect")


def required_actions() -> dict[str, list[str]]:
    """Each action drsdoctor may call -> the facts or modules that need it."""
    from drsdoctor.snapshot import fact_actions

    needed: dict[str, list[str]] = defaultdict(list)
    for fact, actions in fact_actions().items():
        for action in actions:
            needed[action].append(f"snapshot.{fact}")
    for name in DECLARING_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for action in getattr(module, "READ_ACTIONS", ()):
            needed[action].append(name)
    return dict(needed)


def policy_document(needed: dict[str, list[str]]) -> dict[str, Any]:
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


@click.command("permissions")
@common_options
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the policy to this file instead of stdout.")
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="json",
              show_default=True,
              help="json: the policy document; text: each action and what needs it.")
def permissions(output_format: str, output_path: str | None, verbose: int) -> None:
    """Print the least-privilege read-only IAM policy drsdoctor needs (a JSON policy document)."""
    needed = required_actions()
    if output_format == "text":
        lines = [f"{action:<45} for {', '.join(sorted(set(why)))}" for action, why in sorted(needed.items())]
        emit("\n".join([*lines, f"{len(needed)} read-only actions"]), output_path)
        return
    emit(json.dumps(policy_document(needed), indent=2), output_path)
