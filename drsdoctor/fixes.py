"""The fix a finding suggests, as commands an operator pastes: each an argv list (so it can be checked
against the AWS CLI's own parser) and the shell line it renders to (quoted with shlex.join), with the
files it reads (a state machine definition) kept apart: `diagnose --write-fixes DIR` writes them.

drsdoctor never runs a fix: it never changes what it inspects. A fix is a suggestion printed.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

# where a command looks for its files until `diagnose --write-fixes DIR` names another folder
FIXES_DIR = "drsdoctor-fixes"
_FILE_PREFIX = f"file://{FIXES_DIR}/"


@dataclass(frozen=True)
class FixFile:
    """A file a fix command reads: its name in the fixes folder and its text."""

    name: str
    content: str


@dataclass(frozen=True)
class Command:
    """One command: ``argv`` as the shell would pass it; ``shell`` only where the line is more than that
    argv (a pipe into jq, a redirect), and then ``argv`` is the AWS call it makes."""

    argv: tuple[str, ...]
    shell: str = ""

    @property
    def line(self) -> str:
        return self.shell or shlex.join(self.argv)


@dataclass(frozen=True)
class Remedy:
    """What fixes a finding: commands run in order, the files they read, and a short note on what they do
    (or on what the commands cannot do: a value drsdoctor will not print)."""

    commands: tuple[Command, ...]
    files: tuple[FixFile, ...] = ()
    note: str = ""
    folder: str = field(default=FIXES_DIR)
    written: bool = False  # `diagnose --write-fixes` wrote the files where the commands read them

    @property
    def line(self) -> str:
        """The commands as one line to paste (``&&`` between them)."""
        return " && ".join(command.line for command in self.commands)

    def paths(self) -> list[str]:
        return [f"{self.folder}/{item.name}" for item in self.files]

    def files_note(self) -> str:
        """Where the files the commands read are, or how to get them."""
        paths = ", ".join(self.paths())
        if not paths:
            return ""
        if self.written:
            return f"written: {paths}"
        return f"run this diagnose again with --write-fixes {self.folder} to write {paths}"

    def placed(self, folder: str) -> Remedy:
        """The same fix with its files in ``folder``: every ``file://`` argument follows."""
        if folder == self.folder:
            return self
        old, new = f"file://{self.folder}/", f"file://{folder}/"

        def moved(command: Command) -> Command:
            argv = tuple(new + arg[len(old):] if arg.startswith(old) else arg for arg in command.argv)
            return Command(argv, command.shell.replace(old, new) if command.shell else "")

        return replace(self, commands=tuple(moved(c) for c in self.commands), folder=folder)

    def write(self, folder: str) -> Remedy:
        """Write the files into ``folder`` (created); the fix whose commands read them there."""
        from pathlib import Path

        placed = self.placed(folder)
        if not self.files:
            return placed
        Path(folder).mkdir(parents=True, exist_ok=True)
        for item in self.files:
            (Path(folder) / item.name).write_text(item.content, encoding="utf-8")
        return replace(placed, written=True)

    def to_dict(self) -> dict[str, Any]:
        return {"commands": [{"argv": list(c.argv), "line": c.line} for c in self.commands],
                "files": [{"path": path, "content": item.content}
                          for path, item in zip(self.paths(), self.files, strict=True)],
                "note": self.note, "files_note": self.files_note()}


def command(*argv: str, shell: str = "") -> Command:
    return Command(tuple(argv), shell)


def remedy(*commands: Command, files: Iterable[FixFile] = (), note: str = "") -> Remedy:
    return Remedy(tuple(commands), tuple(files), note)


def file_arg(name: str) -> str:
    """The argument that makes the AWS CLI read a fix file (``file://drsdoctor-fixes/NAME``)."""
    return _FILE_PREFIX + name


def safe_file_name(text: str) -> str:
    """A resource name as a file name: letters, digits, dot, dash and underscore only."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in text).strip(".-")
    return cleaned or "fix"
