"""`drsdoctor sandbox serve`: the sandbox world as a server on 127.0.0.1 for any AWS client.

Prints one JSON line (endpoint_url, region, state_machine_arn, plans, start_input, drs_endpoint_url,
stack_name, orchestrator, names: the orchestrator's name map, clock_url, fault_url) and serves, its clock
running, until SIGINT or SIGTERM, which stop it and every worker process it started.
"""

from __future__ import annotations

import datetime
import json
import signal
import threading
from typing import Any

import click

from drsdoctor.commands import complete
from drsdoctor.commands.options import common_options

# Room for hours of fast simulated time before the clock meets the wall clock.
SERVE_LEAD = datetime.timedelta(days=3)


def require_sandbox() -> None:
    """The sandbox runs on moto, an optional extra: without it, say how to install it (exit 2)."""
    from drsdoctor.errors import InputError

    try:
        import moto  # noqa: F401
    except ImportError:
        raise InputError("the sandbox needs moto: pip install 'drsdoctor[sandbox]'") from None


@click.group(epilog=(
    "\b\nExamples:\n"
    "  drsdoctor sandbox serve --port 5555 --fault finder-rule-disabled"
))
def sandbox() -> None:
    """The local sandbox: moto plus a DRS simulator, with an orchestrator (the reference) deployed."""


@sandbox.command(epilog=(
    "\b\nExamples:\n"
    "  drsdoctor sandbox serve --port 5555\n"
    "  drsdoctor sandbox serve --orchestrator selfpoll --waves 10 --servers-per-wave 200"
))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--orchestrator", default="reference", show_default=True, metavar="NAME",
              help="Deploy this orchestrator (see `drsdoctor demo --list-orchestrators`).",
              shell_complete=complete.orchestrator_names)
@click.option("--fault", default="none", show_default=True, metavar="NAME",
              help="Break the world this way before serving (see `drsdoctor demo --list-faults "
              "--orchestrator NAME`).", shell_complete=complete.fault_names)
@click.option("--speed", type=click.FloatRange(min=1), default=None,
              help="Simulated seconds per real second while no function runs (default 600).")
@click.option("--throttle", type=click.FloatRange(min=0, max=1, max_open=True), default=0.0,
              show_default=True, metavar="SHARE",
              help="Answer this share of outside clients' calls (0.3 is 30%) with the service's throttling "
              "error, chosen by a seeded RNG so runs repeat.")
@click.option("--authorize", is_flag=True,
              help="Judge outside clients' calls to every service by their IAM user's policies, as AWS does "
              "(moto's IAM authorisation; DRS calls are always judged): an unknown key or a missing "
              "permission is refused. The world's own clients and functions are not judged.")
@click.option("--waves", type=int, default=None, metavar="N",
              help="Seed a plan of N waves (1-10) instead of the three-tier plan; see --servers-per-wave.")
@click.option("--servers-per-wave", type=int, default=None, metavar="M",
              help="Source servers in each wave of that plan (1-500, 4,000 in all; default 2).")
@common_options
def serve(port: int, orchestrator: str, fault: str, speed: float | None, throttle: float, authorize: bool,
          waves: int | None, servers_per_wave: int | None, verbose: int) -> None:
    """Serve the sandbox until interrupted; AWS_ENDPOINT_URL=<endpoint_url> points any client at it.

    \b
    The JSON line it prints first also names two sandbox-only endpoints:
      clock_url  GET: the world's simulated time, {"now": ISO 8601}
      fault_url  POST {"fault": NAME}: repair the injected fault, inject NAME
                 ("none": only repair); GET: the injected fault
    """
    from drsdoctor.errors import InputError
    from drsdoctor.sandbox import orchestrators

    require_sandbox()
    deployed = orchestrators.get(orchestrator)
    if fault != "none":
        deployed.fault(fault)
    from drsdoctor.sandbox.seed import PlanSize

    # either option sizes the plan; the one left out keeps the three-tier plan's (3 waves, 2 servers a wave)
    sized = waves is not None or servers_per_wave is not None
    plan = PlanSize(3 if waves is None else waves, 2 if servers_per_wave is None else servers_per_wave) \
        if sized else None
    from drsdoctor.sandbox.server import CLOCK_PATH, FAULT_PATH
    from drsdoctor.sandbox.world import Sandbox

    stop = threading.Event()

    def request_stop(_signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    options: dict[str, Any] = {"speed": speed} if speed else {}
    if throttle:
        options["throttle"] = throttle
    if authorize:
        options["authorize"] = True
    if plan is not None:
        options["plan"] = plan
    try:
        world = Sandbox.start(fault=fault, port=port, lead=SERVE_LEAD, orchestrator=orchestrator, **options)
    except OSError as error:
        raise InputError(f"cannot serve on 127.0.0.1:{port}: {error.strerror}") from None
    except LookupError as error:  # a fault's server is not in a sized plan (app-2 needs 2 waves of 2)
        raise InputError(f"cannot inject --fault {fault} into this plan: {error}") from None
    try:
        click.echo(json.dumps({**world.info(), "clock_url": world.endpoint_url + CLOCK_PATH,
                               "fault_url": world.endpoint_url + FAULT_PATH}))
        if verbose:
            click.echo(f"serving {world.endpoint_url}; Ctrl-C stops", err=True)
        while not stop.wait(0.5):
            pass
    finally:
        world.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
