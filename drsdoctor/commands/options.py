"""Options shared by several commands (DESIGN.md, "Common options") and the one way results are written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "json", "markdown", "sarif", "junit", "html")


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A YAML file whose keys are option names (format: json, timeout: 30, checks-dir: [./checks]) becomes
    the command's defaults; an unknown key or a value of the wrong type is bad input, named."""
    if value is None:
        return None
    import yaml

    from drsdoctor.errors import InputError
    from drsdoctor.inputfile import CONFIG_LIMIT, read_bounded

    try:
        loaded = yaml.safe_load(read_bounded(value, "config", CONFIG_LIMIT))
    except yaml.YAMLError as error:
        raise InputError(f"config {value} is not valid YAML: {error}".splitlines()[0]) from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise InputError(f"config {value} must be a mapping of option names to values")
    options = _config_options(ctx)
    defaults: dict[str, Any] = {}
    for key, item in loaded.items():
        option = options.get(str(key).replace("_", "-"))
        if option is None:
            raise InputError(f"config {value}: unknown key {key!r}; this command's keys are "
                             + ", ".join(sorted(options)))
        assert option.name is not None
        defaults[option.name] = _config_value(ctx, option, f"config {value}: {key}", item)
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def _config_options(ctx: click.Context) -> dict[str, click.Option]:
    """The command's options by the names users type (format, checks-dir), and by their own names."""
    options: dict[str, click.Option] = {}
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name in (None, "config", "help", "version"):
            continue
        assert param.name is not None
        options[param.name.replace("_", "-")] = param
        for flag in param.opts:
            if flag.startswith("--"):
                options[flag[2:]] = param
    return options


def _config_value(ctx: click.Context, option: click.Option, where: str, item: Any) -> Any:
    """A config value converted as the option would convert it on the command line."""
    from drsdoctor.errors import InputError

    accepts = option.type.get_metavar(option, ctx) if hasattr(option.type, "get_metavar") else None
    accepts = accepts or option.type.name
    if option.is_flag and not option.count:
        if not isinstance(item, bool):
            raise InputError(f"{where}: takes true or false, not {item!r}")
        if option.flag_value is not True and option.flag_value is not False:  # --running: a value flag
            return option.flag_value if item else None
        return item
    items = item if option.multiple and isinstance(item, list) else [item]
    if any(isinstance(one, (list, dict)) for one in items):
        raise InputError(f"{where}: takes one value ({accepts}), not {item!r}")
    if any(one is None for one in items):
        raise InputError(f"{where}: takes a value ({accepts}), not nothing")
    try:
        converted = [option.type.convert(one, option, ctx) for one in items]
    except click.BadParameter as error:
        raise InputError(f"{where}: {error.message} (takes {accepts})") from None
    return converted if option.multiple else converted[0]


def _no_color(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    """--no-color: as NO_COLOR=1 does, for this run (drsdoctor.report.terminal reads it)."""
    if value:
        from drsdoctor.report.terminal import NO_COLOR_FLAG

        ctx.meta[NO_COLOR_FLAG] = True
    return value


def common_options(function: F) -> F:
    """--config, -v and --no-color, on every command."""
    function = click.option(
        "--no-color", is_flag=True, is_eager=True, expose_value=False, callback=_no_color,
        help="No colour or other escape codes in the output (NO_COLOR=1 does the same).",
    )(function)
    function = click.option("-v", "--verbose", count=True, help="More detail (-v shows the AWS call log).")(
        function
    )
    return click.option(
        "--config", type=click.Path(dir_okay=False), callback=_load_config, is_eager=True,
        expose_value=False,
        help="YAML file of option defaults: keys are the option names (format, timeout, checks-dir...).",
    )(function)


class Seconds(click.ParamType):
    """A duration in seconds: a finite number above zero (nan and inf are not a deadline)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value!r} is not a number of seconds above 0", param, ctx)
        return seconds


def _endpoint_url(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """An http(s) URL with a host, or nothing: anything else would be an AWS call to nowhere."""
    from urllib.parse import urlsplit

    if not value:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http(s) URL (like https://host:port)")
    return value


def aws_options(function: F) -> F:
    """--region, --profile, --endpoint-url: where and as whom to call AWS."""
    function = click.option(
        "--endpoint-url", envvar="AWS_ENDPOINT_URL", callback=_endpoint_url,
        help="Send every AWS call here (a sandbox, a proxy): an http(s) URL.",
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
    """Write a result to --output, or to stdout: only colour survives of the control codes (the last guard;
    results are made safe where they are rendered, drsdoctor.textsafe)."""
    from drsdoctor.report.terminal import color_wanted
    from drsdoctor.textsafe import plain, safe_output

    text = safe_output(text)
    if output_path or not color_wanted():  # a file, a pipe, NO_COLOR, --no-color: no colour codes at all
        text = plain(text)
    if output_path:
        from drsdoctor.errors import InputError

        try:
            Path(output_path).write_text(text if text.endswith("\n") else text + "\n")
        except OSError as error:  # a missing folder, a read-only file, a full device: the user's to fix
            raise InputError(f"cannot write --output {output_path}: {error.strerror or error}") from None
    else:
        click.echo(text.rstrip("\n"))


def echo_call_log(call_log: Any) -> None:
    """`-v`: every AWS call the run made (or made so far) and their summary, on stderr."""
    from drsdoctor.textsafe import safe

    for record in call_log.records:
        click.echo(f"  {safe(record.line())}", err=True)
    click.echo(call_log.summary(), err=True)


def long_option(function: F) -> F:
    """--long: the text report lists every finding, not only the problems (-v does too)."""
    return click.option("--long", "long_", is_flag=True,
                        help="Text report: every finding, grouped by service, none cut short (-v does too).")(
        function)


def timeout_option(function: F) -> F:
    """--timeout: the whole run's budget (every AWS call, its retries and the reading of its answer)."""
    return click.option(
        "--timeout", "budget", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
        help="Give up on AWS after this many seconds in all: one line says what did not answer, exit 3.",
    )(function)
