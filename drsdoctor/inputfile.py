"""Reading the user's files (templates, bundles, policies, config) with a size limit, from regular files or
stdin only: `/dev/zero` would fill the memory and a FIFO would block forever, so neither is read at all.

Limits (stated in the README): a template 1 MB, CloudFormation's own limit for a template read from S3
(an inline TemplateBody is at most 51,200 bytes); a policy or config file 1 MB; a bundle 256 MB.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from drsdoctor.errors import InputError

MB = 1024 * 1024
TEMPLATE_LIMIT = MB
POLICY_LIMIT = MB
CONFIG_LIMIT = MB
BUNDLE_LIMIT = 256 * MB


def read_bounded(path: str | Path, what: str, limit: int = MB) -> str:
    """The UTF-8 text of a regular file (or stdin for "-") of at most ``limit`` bytes; else InputError,
    one line naming the file and what is wrong with it."""
    data = _stdin(limit) if str(path) == "-" else _file(Path(path), what, limit)
    if len(data) > limit:
        raise InputError(f"{what} {path} is larger than {_size(limit)}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{what} {path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
                         f"{error.start})") from None


def _file(path: Path, what: str, limit: int) -> bytes:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it unread
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a directory, not a file") from None
    except OSError as error:
        raise InputError(f"cannot read {what} {path}: {error.strerror or error}") from None
    with os.fdopen(descriptor, "rb") as file:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{what} {path} is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise InputError(f"{what} {path} is not a regular file (a device, FIFO or socket): not read")
        if os.fstat(descriptor).st_size > limit:
            raise InputError(f"{what} {path} is larger than {_size(limit)}")
        try:
            return file.read(limit + 1)
        except OSError as error:
            raise InputError(f"cannot read {what} {path}: {error.strerror or error}") from None


def _stdin(limit: int) -> bytes:
    return sys.stdin.buffer.read(limit + 1)


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit:,} bytes"
