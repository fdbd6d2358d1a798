"""`drsdoctor permissions`: the least-privilege read-only IAM policy drsdoctor needs, derived from what
the Snapshot's facts declare (and what other commands declare), never from a hand-written list.

Required: every action some command calls and cannot do without (denied, a check reports `error` naming
it). Optional: actions a fact's collector uses when allowed and does without when denied (a note says what
was left out); `--include-optional` grants them too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click

# The one table: the read-only guard allows exactly these (and what needs no permission).
from drsdoctor.aws.allowlist import DECLARING_MODULES, optional_actions, required_actions
from drsdoctor.commands.options import common_options, emit

__all__ = ["DECLARING_MODULES", "optional_actions", "policy", "policy_document", "required_actions"]


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


@click.command("permissions", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor permissions --output drsdoctor-policy.json\n"
    "  drsdoctor permissions --include-optional --format text"
))
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
