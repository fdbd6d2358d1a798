"""`drsdoctor diff-stacks A B`: what changed between the deployment that worked and the one that does not."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from drsdoctor import exitcodes
from drsdoctor.commands.options import (
    aws_options,
    common_options,
    echo_call_log,
    emit,
    output_options,
    timeout_option,
)

if TYPE_CHECKING:
    from drsdoctor.aws import AwsSession
    from drsdoctor.diff.model import DiffResult
    from drsdoctor.diff.sides import Source


@click.command("diff-stacks", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor diff-stacks examples/templates/archive.yaml examples/templates/current.yaml\n"
    "  drsdoctor diff-stacks reference drs-orchestrator-prod --fail-on high"
))
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option("--long", "long_", is_flag=True, help="Show equal parts and full values too.")
@click.option(
    "--fail-on",
    type=click.Choice(["any", "high"]),
    default="any",
    show_default=True,
    help="Which differences make the exit code 1.",
)
@click.option("--parameters-a", multiple=True, metavar="K=V", help="Parameter value for side A (repeatable).")
@click.option("--parameters-b", multiple=True, metavar="K=V", help="Parameter value for side B (repeatable).")
@click.option(
    "--template-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where a template file's nested stack templates are also looked for (by their TemplateURL's key).",
)
@output_options("text", "json", "markdown", "sarif", "html")
@aws_options
@timeout_option
@common_options
def diff_stacks(
    first: str,
    second: str,
    long_: bool,
    fail_on: str,
    parameters_a: tuple[str, ...],
    parameters_b: tuple[str, ...],
    template_root: Path | None,
    output_format: str,
    output_path: str | None,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    budget: float | None,
    verbose: int,
) -> None:
    """Compare A and B semantically; each is a stack name or ARN, a template file, or `reference`.

    Exit 0 identical, 1 differences (see --fail-on), 2 bad input, 3 AWS unreachable.
    """
    from drsdoctor.diff.engine import diff_sources
    from drsdoctor.diff.sources import load_sources, parse_assignments

    given_a = parse_assignments(parameters_a, "--parameters-a")
    given_b = parse_assignments(parameters_b, "--parameters-b")

    sessions: list[AwsSession] = []

    def stack_loader(argument: str, given: Mapping[str, str]) -> Source:
        from drsdoctor.aws import AwsSettings
        from drsdoctor.commands.diagnose import budgeted_session
        from drsdoctor.diff.deployed import load_stack

        if not sessions:  # one session (and its call log) for both sides
            settings = AwsSettings(region=region, profile=profile, endpoint_url=endpoint_url)
            sessions.append(budgeted_session(settings, budget))
        return load_stack(sessions[0], argument, given)

    a, b = load_sources(first, second, given_a, given_b, stack_loader, template_root)
    from drsdoctor.textsafe import deep

    result = deep(diff_sources(a, b))  # template and stack text: no escape sequence reaches the reader
    emit(render(result, output_format, long_, output_path), output_path)
    if output_format in ("json", "sarif"):  # text, markdown and html say it in their body
        from drsdoctor.diff.render import unread_notes

        for note in unread_notes(result):
            click.echo(f"not read: {note}", err=True)
    if verbose and sessions:
        echo_call_log(sessions[0].call_log)
    failing = result.changes if fail_on == "any" else [c for c in result.changes if c.risk == "high"]
    sys.exit(exitcodes.PROBLEMS if failing else exitcodes.OK)


def render(result: DiffResult, output_format: str, long_: bool, output_path: str | None) -> str:
    from drsdoctor.diff.render import render_markdown, render_text, to_json
    from drsdoctor.diff.sarif import render_sarif

    if output_format == "json":
        return to_json(result)
    if output_format == "markdown":
        return render_markdown(result, long_)
    if output_format == "sarif":
        return render_sarif(result)
    if output_format == "html":
        from drsdoctor.diff.html import render_html

        return render_html(result, long_)
    from drsdoctor.report.terminal import color_wanted

    color = output_path is None and color_wanted()
    return render_text(result, long_, color=color)
