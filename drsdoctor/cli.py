"""The command line: one ordered table of commands, each imported only when it runs.

Keeping imports lazy keeps `drsdoctor --help` fast: no boto3 or moto before a command needs them.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys

import click

from drsdoctor import __version__, exitcodes
from drsdoctor.errors import DrsdoctorError

# name -> (module:attribute, one-line help shown by `drsdoctor --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "diagnose": ("drsdoctor.commands.diagnose:diagnose",
                 "Name the root cause of a stuck or failed recovery execution."),
    "discover": ("drsdoctor.commands.discover:discover",
                 "Show the orchestrator as drsdoctor learnt it: parts, evidence, progress, wave status."),
    "diff-stacks": ("drsdoctor.commands.diff_stacks:diff_stacks",
                    "Compare two deployments semantically: what changed between working and broken."),
    "demo": ("drsdoctor.commands.demo:demo",
             "Run a recovery in the local sandbox, optionally break it, and diagnose it."),
    "sandbox": ("drsdoctor.commands.sandbox:sandbox",
                "Serve the sandbox (moto plus a DRS simulator) on loopback for any AWS client."),
    "iam": ("drsdoctor.commands.iam:iam", "Offline IAM policy simulation."),
    "checks": ("drsdoctor.commands.checks:checks",
               "List every check and the read-only API actions it needs."),
    "permissions": ("drsdoctor.commands.permissions:permissions",
                    "Print the least-privilege read-only IAM policy drsdoctor needs."),
    "reference": ("drsdoctor.commands.reference:reference",
                  "Export the reference orchestrator for deployment to a real account."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, with a "did you mean" for typos."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_text) for name, (_, help_text) in COMMANDS.items()])

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint}")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=(
    "\b\nExamples:\n"
    "  drsdoctor demo --fault finder-rule-disabled\n"
    "  drsdoctor diagnose arn:aws:states:us-east-1:123456789012:execution:drs-recovery:run-42"
))
@click.version_option(__version__, prog_name="drsdoctor")
def cli() -> None:
    """Diagnose stuck AWS Elastic Disaster Recovery wave orchestrations.

    Exit codes: 0 healthy or identical, 1 problems or differences found,
    2 bad input or usage, 3 could not complete.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: our own errors become one line on stderr and their exit code, never a traceback."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting: exit with it here.
        returned = cli.main(args=argv, prog_name="drsdoctor", standalone_mode=False)
        sys.exit(returned if isinstance(returned, int) else exitcodes.OK)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.UsageError as bad_usage:  # one line, and where to look
        where = bad_usage.ctx.command_path if bad_usage.ctx else "drsdoctor"
        message = " ".join(bad_usage.format_message().split())
        click.echo(f"drsdoctor: {_shown(message)} (see '{where} --help')", err=True)
        sys.exit(exitcodes.USAGE)
    except click.ClickException as bad_usage:
        bad_usage.show()
        sys.exit(exitcodes.USAGE if bad_usage.exit_code == 2 else bad_usage.exit_code)
    except click.exceptions.Abort:
        click.echo("drsdoctor: interrupted", err=True)
        sys.exit(130)
    except DrsdoctorError as error:
        click.echo(f"drsdoctor: {_scrubbed(error)}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("drsdoctor: interrupted", err=True)
        sys.exit(130)
    except Exception as bug:  # a bug of ours: still one line unless asked for the traceback
        if os.environ.get("DRSDOCTOR_DEBUG"):
            raise
        click.echo(f"drsdoctor: internal error: {type(bug).__name__}: {_scrubbed(bug)} "
                   "(set DRSDOCTOR_DEBUG=1 for the traceback)", err=True)
        sys.exit(exitcodes.INCOMPLETE)


def _scrubbed(error: BaseException) -> str:
    """An error's message with credential-shaped text removed: AWS and parsers quote what they were given."""
    from drsdoctor.secrets import Scrubber

    return _shown(Scrubber().text(str(error)))


def _shown(message: str) -> str:
    """A message as the terminal may show it: escape sequences written out, never obeyed."""
    from drsdoctor.textsafe import safe

    return safe(message)
