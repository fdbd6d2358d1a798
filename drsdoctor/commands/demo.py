"""`drsdoctor demo`: run a recovery in the local sandbox, optionally broken by a fault, and diagnose it.

Progress and a short summary go to stderr; the diagnosis of the execution goes to stdout (or --output) in
--format, and the exit code is the diagnosis's (0 healthy, 1 problems found). The world stays up until the
diagnosis is written (see drsdoctor.sandbox.demo.run_demo).
"""

from __future__ import annotations

import sys

import click

from drsdoctor.commands import complete
from drsdoctor.commands.options import common_options, echo_call_log, emit, long_option, output_options


@click.command(epilog=(
    "\b\nExamples:\n"
    "  drsdoctor demo --fault finder-rule-disabled\n"
    "  drsdoctor demo --orchestrator selfpoll --list-faults"
))
@click.option("--fault", default="none", show_default=True, metavar="NAME",
              help="Break the sandbox this way first (see --list-faults); 'none' runs it healthy.",
              shell_complete=complete.fault_names)
@click.option("--list-faults", is_flag=True,
              help="Print the orchestrator's fault catalogue, one line each, and exit.")
@click.option("--orchestrator", default="reference", show_default=True, metavar="NAME",
              help="Deploy this orchestrator (see --list-orchestrators; renamed:SEED is the reference with "
              "every name drawn from the integer SEED).", shell_complete=complete.orchestrator_names)
@click.option("--list-orchestrators", is_flag=True,
              help="Print the orchestrators' names, one a line, and exit.")
@output_options()
@long_option
@common_options
def demo(fault: str, list_faults: bool, orchestrator: str, list_orchestrators: bool, output_format: str,
         output_path: str | None, long_: bool, verbose: int) -> None:
    """Deploy an orchestrator (the reference by default) into the sandbox, break it (or not), run a
    recovery, diagnose it."""
    from drsdoctor.sandbox import orchestrators

    if list_orchestrators:
        for name in orchestrators.listing():
            click.echo(name)
        return
    deployed = orchestrators.get(orchestrator)  # a mistyped name is a usage error before anything starts
    if list_faults:
        for line in deployed.catalogue():
            click.echo(line)
        return
    if fault != "none":
        deployed.fault(fault)  # a mistyped name is a usage error before anything starts
    from drsdoctor.commands.sandbox import require_sandbox

    require_sandbox()
    from drsdoctor.sandbox.demo import ProgressDisplay, run_demo

    display = ProgressDisplay()
    try:
        result = run_demo(fault, report=display.step, orchestrator=orchestrator)
        with result:
            display.step("diagnosing the execution")
            from drsdoctor.aws.session import AwsSession, AwsSettings
            from drsdoctor.commands.diagnose import diagnose_execution
            from drsdoctor.report import render

            world = result.world
            # The world's own boto3 session: the sandbox needs no credentials from the user's environment.
            session = AwsSession(AwsSettings(region=world.region, endpoint_url=world.endpoint_url),
                                 _boto=world.session())
            if result.execution_arn.split(":")[2] == "drs":  # DRS's own recovery plan: as its operator says
                from drsdoctor.commands.diagnose_plan import diagnose_plan_execution

                _, report = diagnose_plan_execution(result.execution_arn, session,
                                                    plan_role=world.outputs.get("OperatorRoleArn"))
            else:
                _, report = diagnose_execution(result.execution_arn, session)
            summary = result.summary()  # reads the world: before it closes
    finally:
        display.close()
    for line in summary:
        click.echo(line, err=True)
    if verbose:  # the read-only calls the diagnosis made, as `diagnose -v` shows them
        echo_call_log(session.call_log)
    emit(render(report, output_format, long=long_ or bool(verbose)), output_path)
    sys.exit(report.exit_code)
