"""`drsdoctor reference export DIR`: write the reference orchestrator for deployment to a real account."""

from __future__ import annotations

import click

from drsdoctor.commands.options import common_options


@click.group(epilog=(
    "\b\nExamples:\n"
    "  drsdoctor reference export ./drs-orchestrator"
))
def reference() -> None:
    """The reference DRS wave orchestrator (the known-good baseline)."""


@reference.command("export", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor reference export ./drs-orchestrator\n"
    "  drsdoctor reference export ./drs-orchestrator --force"
))
@click.argument("directory", type=click.Path())  # checked by export: one line, exit 2
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@common_options
def export_command(directory: str, force: bool, verbose: int) -> None:
    """Write template.yaml, functions/, the code zip and DEPLOY.md into DIRECTORY."""
    from drsdoctor.reference.exporter import export

    for path in export(directory, force=force):
        click.echo(str(path))
    click.echo(f"next: follow {directory.rstrip('/')}/DEPLOY.md", err=True)
