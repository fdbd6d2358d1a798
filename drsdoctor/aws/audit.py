"""The audit trail: with DRSDOCTOR_CALL_LOG=<file>, every request an AwsSession sends is appended to that file
as one JSON line, so an operator (or a test suite) can show afterwards what drsdoctor really asked AWS.

Lines are written at `before-send`, after the read-only guard: what went on the wire, retries included. A call
the guard refused is appended too, with "refused": true. No parameter value is ever written: a request's
parameters can hold secrets, and its URL path can name them, so the endpoint is scheme and host only.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any
from urllib.parse import urlsplit

from drsdoctor.aws.readonly import is_read_operation
from drsdoctor.errors import InputError

ENV_VAR = "DRSDOCTOR_CALL_LOG"
OUTSIDE_THE_CLI = "-"


def current_command() -> str:
    """The drsdoctor command being run ("diagnose", "iam simulate"), or "-" outside the CLI."""
    import click

    context = click.get_current_context(silent=True)
    names: list[str] = []
    while context is not None and context.parent is not None:  # the root is drsdoctor itself
        names.append(context.info_name or "")
        context = context.parent
    return " ".join(reversed(names)) or OUTSIDE_THE_CLI


class CallAudit:
    """Appends one line per request to `path`. One write per line to a file opened O_APPEND: several
    processes (a test suite's CLI subprocesses, parallel runs) can share the file without mixing lines."""

    def __init__(self, path: str, command: str = OUTSIDE_THE_CLI) -> None:
        self.path, self.command = path, command
        try:  # an audit trail that cannot be written is a usage error up front, not a silent gap
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        except OSError as error:
            raise InputError(f"{ENV_VAR}: cannot append to {path}: {error.strerror}") from None

    @classmethod
    def from_environment(cls) -> CallAudit | None:
        """The trail DRSDOCTOR_CALL_LOG asks for, for the command running now; None when it is not set.
        Called where the session is made: the collector's threads have no command context of their own."""
        path = os.environ.get(ENV_VAR)
        return cls(path, current_command()) if path else None

    def watch(self, client: Any) -> None:
        """Append a line for every request `client` sends (register after the guard and the budget check)."""

        def sent(event_name: str = "", request: Any = None, **_: Any) -> None:
            parts = [*event_name.split("."), "", ""]  # before-send.<service>.<Operation>
            self.append(parts[1], parts[2], origin(getattr(request, "url", None) or client.meta.endpoint_url))

        client.meta.events.register("before-send.*.*", sent)

    def refused(self, service: str, operation: str) -> None:
        self.append(service, operation, None, refused=True)

    def append(self, service: str, operation: str, endpoint: str | None, refused: bool = False) -> None:
        entry: dict[str, Any] = {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "pid": os.getpid(), "command": self.command, "service": service, "operation": operation,
            "read_only": is_read_operation(service, operation), "endpoint": endpoint,
        }
        if refused:
            entry["refused"] = True
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)


def origin(url: str) -> str:
    """Scheme, host and port of a URL: its path and query can carry parameter values."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def read_trail(path: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complete lines appended to `path` from byte `offset` on, and the offset after the last of them."""
    try:
        with open(path, "rb") as trail:
            trail.seek(offset)
            data = trail.read()
    except FileNotFoundError:
        return [], offset
    complete = data[: data.rfind(b"\n") + 1]  # a line still being written is read next time
    entries = [json.loads(line) for line in complete.splitlines() if line.strip()]
    return entries, offset + len(complete)


def is_unsafe(entry: dict[str, Any], refusals_expected: bool = False) -> bool:
    """Whether a trail line shows a mutating call sent (judged again here, not only by the line's own
    read_only), or a call the guard refused where no refusal was expected."""
    if entry.get("refused"):
        return not refusals_expected
    return not entry.get("read_only") or not is_read_operation(entry["service"], entry["operation"])


def describe(entry: dict[str, Any]) -> str:
    what = "refused" if entry.get("refused") else f"sent to {entry.get('endpoint')}"
    read = "read" if entry.get("read_only") else "MUTATING"
    return (f"{entry.get('service')}:{entry.get('operation')} ({read}) {what} by "
            f"`{entry.get('command')}` (pid {entry.get('pid')})")
