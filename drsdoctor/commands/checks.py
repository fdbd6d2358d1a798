"""`drsdoctor checks`: every check, with the read-only API actions its facts need. Imports no boto3."""

from __future__ import annotations

import json
from typing import Any

import click

from drsdoctor.commands.options import common_options, emit, output_options


@click.command("checks", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor checks\n"
    "  drsdoctor checks --format json --output checks.json"
))
@click.option("--checks-dir", "checks_dirs", multiple=True, type=click.Path(file_okay=False),
              help="Also load the checks in this folder (repeatable). This runs the folder's Python with "
              "your credentials: only code you trust.")
@common_options
@output_options("text", "json")
def checks(checks_dirs: tuple[str, ...], output_format: str, output_path: str | None, verbose: int) -> None:
    """List every check: id, service, severity, title, the read-only API actions it needs and those it uses
    only when allowed (the optional ones of `drsdoctor permissions`)."""
    from drsdoctor.engine import load_checks

    loaded = load_checks(checks_dirs)
    rows: list[dict[str, Any]] = [{
        "id": spec.id, "service": spec.service, "severity": spec.severity, "layer": spec.layer,
        "title": spec.title, "reads": list(spec.reads), "actions": list(spec.actions()),
        "optional_actions": list(spec.optional_actions()),
        "plan_step": spec.plan_step, "remediation": spec.remediation, "module": spec.module,
    } for spec in loaded.checks]
    if output_format == "json":
        emit(json.dumps({"schema": "drsdoctor.checks/1", "checks": rows, "problems": loaded.problems},
                        indent=2), output_path)
        return
    lines = []
    for row in rows:
        lines.append(f"{row['id']:<8} {row['service']:<15} {row['severity']:<9} {row['title']}")
        actions = ", ".join(row["actions"]) or "(no AWS facts)"
        lines.append(f"{'':<8} needs: {actions}")
        if row["optional_actions"]:  # as `drsdoctor permissions` says: used when allowed, not needed
            lines.append(f"{'':<8} optional: {', '.join(row['optional_actions'])}")
        if verbose:
            reads = ", ".join(row["reads"])
            lines.append(f"{'':<8} layer: {row['layer']}; reads: {reads}; from {row['module']}")
    lines.append(f"{len(rows)} checks")
    lines += [f"warning: {problem}" for problem in loaded.problems]
    emit("\n".join(lines), output_path)
