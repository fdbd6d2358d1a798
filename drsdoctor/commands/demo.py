"""`drsdoctor demo`: run a recovery in the local sandbox, optionally broken by a fault from the catalogue.

Progress goes to stderr. The diagnosis of the execution is the diagnose command's job: `run_demo` leaves the
world up so it can be inspected before the world closes (see drsdoctor.sandbox.demo).
"""

from __future__ import annotations

import sys

import click

from drsdoctor import exitcodes
from drsdoctor.commands.options import common_options, output_options


@click.command()
@click.option("--fault", default="none", show_default=True, metavar="NAME",
              help="Break the sandbox this way first (see --list-faults); 'none' runs it healthy.")
@click.option("--list-faults", is_flag=True, help="Print the fault catalogue, one line each, and exit.")
@output_options()
@common_options
def demo(fault: str, list_faults: bool, output_format: str, output_path: str | None, verbose: int) -> None:
    """Deploy the reference orchestrator into the sandbox, break it (or not), and run a recovery."""
    from drsdoctor.sandbox import faults

    if list_faults:
        for line in faults.catalogue():
            click.echo(line)
        return
    if fault != "none":
        faults.get(fault)  # a mistyped name is a usage error before anything starts
    from drsdoctor.sandbox.demo import ProgressDisplay, run_demo

    display = ProgressDisplay()
    try:
        result = run_demo(fault, report=display.step)
    finally:
        display.close()
    with result:
        for line in result.summary():
            click.echo(line, err=True)
        healthy = result.outcome.status == "SUCCEEDED"
    sys.exit(exitcodes.OK if healthy else exitcodes.PROBLEMS)
