"""Saving a Snapshot to share: what looks secret is replaced before it leaves the machine."""

from __future__ import annotations

from pathlib import Path

from drsdoctor.errors import InputError
from drsdoctor.secrets import REDACTED, Scrubber, looks_secret, shown_variables
from drsdoctor.snapshot import Snapshot

__all__ = ["REDACTED", "looks_secret", "redacted", "save_bundle"]


def redacted(snap: Snapshot) -> Snapshot:
    """A copy with secret-looking environment variables and stack parameters replaced.

    Their values are also scrubbed from every other string (log lines, error messages, the stack's
    template, history payloads), where a value travels by being quoted.
    """
    safe: Snapshot = Scrubber.of_snapshot(snap).deep(snap)
    for function in safe.functions:
        function.environment = shown_variables(function.environment)
    if safe.stack:
        safe.stack.parameters = shown_variables(safe.stack.parameters)
    return safe


def save_bundle(snap: Snapshot, path: str | Path) -> None:
    """Write the redacted snapshot; an unwritable path is the user's input error."""
    try:
        redacted(snap).save(path)
    except OSError as error:
        raise InputError(f"cannot write bundle {path}: {error.strerror}") from None
