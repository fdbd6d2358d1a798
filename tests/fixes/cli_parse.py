"""A fix command checked by the AWS CLI's own argument parsing and botocore's parameter validation, in this
process, with nothing sent: a `before-call` hook answers every call, after the CLI has parsed the command line
(shorthand, JSON, file://) and botocore has validated the parameters against the operation's model."""

from __future__ import annotations

import contextlib
import functools
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from botocore import xform_name

# what `aws` itself accepts besides the operation's parameters
GLOBAL_OPTIONS = {"--region", "--output", "--query", "--profile", "--endpoint-url", "--no-paginate",
                  "--max-items", "--page-size", "--starting-token", "--debug", "--no-cli-pager"}


@dataclass
class Parsed:
    service: str
    operation: str
    params: dict[str, Any]


class InvalidCommand(AssertionError):
    pass


@functools.cache
def _driver() -> Any:
    from awscli.clidriver import create_clidriver

    return create_clidriver()


@contextlib.contextmanager
def _fake_credentials() -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                   "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_PAGER")}
    os.environ.update(AWS_ACCESS_KEY_ID="parse-only", AWS_SECRET_ACCESS_KEY="parse-only",
                      AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def parse(argv: Sequence[str], cwd: str | None = None) -> Parsed:
    """The operation and parameters `aws ARGV` would send; InvalidCommand naming what the CLI refused."""
    if not argv or argv[0] != "aws":
        raise InvalidCommand(f"not an AWS CLI command: {list(argv)}")
    driver = _driver()
    calls: list[Parsed] = []

    given: list[dict[str, Any]] = []

    def keep(params: dict[str, Any], **_: Any) -> None:
        given.append(dict(params))

    def answer(model: Any, **_: Any) -> tuple[Any, dict[str, Any]]:
        calls.append(Parsed(model.service_model.service_name, model.name, given[-1] if given else {}))
        return SimpleNamespace(status_code=200, headers={}), {}

    driver.session.register("before-parameter-build", keep)
    driver.session.register("before-call", answer)
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    try:
        with _fake_credentials(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if cwd:
                os.chdir(cwd)
            try:
                code = driver.main(list(argv[1:]))
            except SystemExit as refused:  # argparse: an unknown operation or a missing argument
                code = refused.code if isinstance(refused.code, int) else 2
    finally:
        os.chdir(previous)
        driver.session.unregister("before-call", answer)
        driver.session.unregister("before-parameter-build", keep)
    if code != 0 or len(calls) != 1:
        raise InvalidCommand(f"aws {' '.join(argv[1:3])} refused (exit {code}): {err.getvalue().strip()}")
    _exact_options(argv, calls[0])
    return calls[0]


def _exact_options(argv: Sequence[str], parsed: Parsed) -> None:
    """argparse takes an abbreviation (--nam for --name): a command must spell every option whole."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(parsed.service).operation_model(parsed.operation)
    members = model.input_shape.members if model.input_shape else {}
    known = {"--" + xform_name(name, "-") for name in members} | GLOBAL_OPTIONS
    known |= {"--no-" + xform_name(name, "-") for name, shape in members.items()
              if shape.type_name == "boolean"}
    unknown = [arg for arg in argv[3:] if arg.startswith("--") and arg not in known]
    if unknown:
        raise InvalidCommand(f"aws {argv[1]} {argv[2]}: not the operation's option(s): {unknown}")
