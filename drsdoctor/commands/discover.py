"""`drsdoctor discover EXECUTION_ARN`: the orchestrator as drsdoctor learnt it from its deployment, each part
with the evidence that found it and what could not be told; `--format yaml` is an orchestrator map that
`diagnose --map FILE` accepts once corrected."""

from __future__ import annotations

import json

import click

from drsdoctor.commands.options import aws_options, common_options, echo_call_log, emit, output_options
from drsdoctor.topology.model import Topology

FORMATS = ("text", "json", "yaml")


@click.command("discover", epilog=(
    "\b\nExamples:\n"
    "  drsdoctor discover arn:aws:states:us-east-1:123456789012:execution:drs-recovery:run-42\n"
    "  drsdoctor discover \"$EXECUTION_ARN\" --format yaml --output map.yaml"
))
@click.argument("execution_arn")
@aws_options
@common_options
@output_options(*FORMATS)
def discover(execution_arn: str, region: str | None, profile: str | None, endpoint_url: str | None,
             verbose: int, output_format: str, output_path: str | None) -> None:
    """Print the orchestrator's parts, how they connect, how progress is driven and where the wave status
    lives, each with its evidence. Exit codes: 0 found, 2 bad input, 3 could not complete."""
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.collect import parse_execution_arn
    from drsdoctor.collect.run import begin
    from drsdoctor.topology.orchestrator_map import as_map

    target = parse_execution_arn(execution_arn)  # a bad ARN fails here, before any AWS call
    settings = AwsSettings(region=target.region or region, profile=profile, endpoint_url=endpoint_url)
    session = AwsSession(settings)
    try:
        snap = begin(target.arn, session).snap
    finally:
        if verbose:
            echo_call_log(session.call_log)
    mapped = as_map(snap.topology, snap.target)
    if output_format == "json":
        emit(json.dumps({"schema": "drsdoctor.topology/1", **mapped}, indent=2), output_path)
    elif output_format == "yaml":
        import yaml

        emit(yaml.safe_dump(mapped, sort_keys=False, width=110), output_path)
    else:
        emit("\n".join(text_lines(snap.topology, snap.target)), output_path)


def text_lines(topology: Topology, target: str) -> list[str]:
    lines = [f"Orchestrator of {target}", "", "How it works:"]
    lines += [f"  {line}" for line in topology.describe()]
    lines += ["", "Parts:"]
    for part in topology.parts:
        role = f" ({part.role})" if part.role else ""
        lines.append(f"  {part.kind} {part.name}{role}")
        lines += [f"      - {evidence}" for evidence in part.evidence]
    lines += ["", "Connections:"]
    for edge in topology.edges:
        source, destination = topology.part(edge.source), topology.part(edge.target)
        lines.append(f"  {source.name if source else edge.source} --{edge.relation}--> "
                     f"{destination.name if destination else edge.target}: {edge.evidence}")
    return lines
