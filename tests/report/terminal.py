"""drsdoctor run as an operator runs it: in a child whose stdout and stderr are real pseudo-terminals."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
from dataclasses import dataclass

ESCAPE = re.compile(r"\x1b[\[\]()#;?]*[0-9;?]*[A-Za-z]?")  # any escape sequence: colour, cursor, erase


@dataclass
class OnTerminal:
    returncode: int
    stdout: str
    stderr: str

    def escapes(self) -> int:
        return len(ESCAPE.findall(self.stdout)) + len(ESCAPE.findall(self.stderr))


def _drain(master: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            return
        if not chunk:
            return
        into.append(chunk)


class Running:
    """A child started on two pseudo-terminals; `finish()` waits for it and returns what it wrote."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str | None] | None = None) -> None:
        wanted: dict[str, str | None] = {"COLUMNS": "80", "TERM": "xterm-256color", "NO_COLOR": None}
        wanted.update(env or {})
        child_env = {**os.environ}
        for name, value in wanted.items():
            if value is None:
                child_env.pop(name, None)
            else:
                child_env[name] = value
        self.masters, slaves = zip(*(pty.openpty() for _ in range(2)), strict=True)
        self.outputs: list[list[bytes]] = [[], []]
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "drsdoctor", *args],
                                            stdin=subprocess.DEVNULL, stdout=slaves[0], stderr=slaves[1],
                                            env=child_env)
        finally:
            for slave in slaves:
                os.close(slave)
        # read as it writes: a terminal's buffer is small, and a child blocked on a full one never ends
        self.readers = [threading.Thread(target=_drain, args=(master, into), daemon=True)
                        for master, into in zip(self.masters, self.outputs, strict=True)]
        for reader in self.readers:
            reader.start()

    def finish(self, timeout: float = 300) -> OnTerminal:
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for reader in self.readers:
                reader.join(timeout=10)
            for master in self.masters:
                os.close(master)
        # the terminal turns each newline into CR LF
        stdout, stderr = (b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
                          for chunks in self.outputs)
        return OnTerminal(self.process.returncode, stdout, stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()


def run_on_terminal(*args: str, env: dict[str, str | None] | None = None, timeout: float = 300) -> OnTerminal:
    """`python -m drsdoctor ARGS` with stdout and stderr each on a pseudo-terminal (so isatty() is true, as
    in an operator's shell); `env` is added to this process's environment (None: removed), COLUMNS=80 and
    no NO_COLOR unless it says."""
    return Running(args, env).finish(timeout)
