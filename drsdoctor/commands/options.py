"""Options shared by several commands (DESIGN.md, "Common options") and the one way results are written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "json", "markdown", "sarif", "junit")


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A YAML file whose keys are option names (region: eu-west-1) becomes the command's defaults."""
    if value is None:
        return None
    import yaml

    from drsdoctor.errors import InputError

    try:
        loaded = yaml.safe_load(Path(value).read_text())
    except OSError as error:
        raise InputError(f"cannot read config {value}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise InputError(f"config {value} is not valid YAML: {error}".splitlines()[0]) from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise InputError(f"config {value} must be a mapping of option names to values")
    ctx.default_map = {str(key).replace("-", "_"): item for key, item in loaded.items()}
    return value


def common_options(function: F) -> F:
    """--config and -v, on every command."""
    function = click.option("-v", "--verbose", count=True, help="More detail (-v shows the AWS call log).")(
        function
    )
    return click.option(
        "--config", type=click.Path(dir_okay=False), callback=_load_config, is_eager=True,
        expose_value=False, help="YAML file of option defaults (keys are option names).",
    )(function)


def aws_options(function: F) -> F:
    """--region, --profile, --endpoint-url: where and as whom to call AWS."""
    function = click.option(
        "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="Send every AWS call here (a sandbox, a proxy)."
    )(function)
    function = click.option("--profile", help="Named profile from the AWS config.")(function)
    return click.option("--region", help="AWS region (a region in the ARN wins).")(function)


def output_options(*formats: str) -> Callable[[F], F]:
    """--format and --output, with the formats this command can write."""

    def decorate(function: F) -> F:
        function = click.option(
            "--output", "output_path", type=click.Path(dir_okay=False, writable=True),
            help="Write the result to this file instead of stdout.",
        )(function)
        return click.option(
            "--format", "output_format", type=click.Choice(formats or FORMATS), default="text",
            show_default=True, help="Output format.",
        )(function)

    return decorate


def emit(text: str, output_path: str | None) -> None:
    """Write a result to --output, or to stdout."""
    if output_path:
        Path(output_path).write_text(text if text.endswith("\n") else text + "\n")
    else:
        click.echo(text.rstrip("\n"))


def echo_call_log(call_log: Any) -> None:
    """`-v`: every AWS call the run made (or made so far) and their summary, on stderr."""
    for record in call_log.records:
        click.echo(f"  {record.line()}", err=True)
    click.echo(call_log.summary(), err=True)


def timeout_option(function: F) -> F:
    """--timeout: the whole run's budget (every AWS call, its retries and the reading of its answer)."""
    return click.option(
        "--timeout", "budget", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
        help="Give up on AWS after this many seconds in all: one line says what did not answer, exit 3.",
    )(function)
