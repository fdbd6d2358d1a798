"""Saving a Snapshot to share: what looks secret is replaced before it leaves the machine."""

from __future__ import annotations

import copy
import re
from pathlib import Path

from drsdoctor.errors import InputError
from drsdoctor.snapshot import Snapshot

REDACTED = "<redacted>"
SECRET_NAME = re.compile(r"SECRET|PASSW(OR)?D|PASSPHRASE|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|"
                         r"AUTH|SESSION_?KEY|SIGNING_?KEY|ENCRYPTION_?KEY|DSN|CONNECTION_?STRING|WEBHOOK",
                         re.IGNORECASE)
SECRET_VALUE = [
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key id
    re.compile(r"^[A-Za-z0-9/+]{40}$"),  # the shape of an AWS secret access key
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"://[^/\s:@]+:[^/\s@]+@"),  # credentials inside a URL
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."),  # a JWT
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{10,})"),
]


def looks_secret(name: str, value: str) -> bool:
    return bool(SECRET_NAME.search(name)) or any(pattern.search(str(value)) for pattern in SECRET_VALUE)


def redacted(snap: Snapshot) -> Snapshot:
    """A copy with secret-looking environment variables and stack parameters replaced."""
    safe = copy.deepcopy(snap)
    for function in safe.functions:
        function.environment = {name: REDACTED if looks_secret(name, value) else value
                                for name, value in function.environment.items()}
    if safe.stack:
        safe.stack.parameters = {name: REDACTED if looks_secret(name, value) else value
                                 for name, value in safe.stack.parameters.items()}
    return safe


def save_bundle(snap: Snapshot, path: str | Path) -> None:
    """Write the redacted snapshot; an unwritable path is the user's input error."""
    try:
        redacted(snap).save(path)
    except OSError as error:
        raise InputError(f"cannot write bundle {path}: {error.strerror}") from None
