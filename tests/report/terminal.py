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


def run_on_terminal(*args: str, env: dict[str, str | None] | None = None, timeout: float = 300) -> OnTerminal:
    """`python -m drsdoctor ARGS` with stdout and stderr each on a pseudo-terminal (so isatty() is true, as
    in an operator's shell); `env` is added to this process's environment (None: removed), COLUMNS=80 and
    no NO_COLOR unless it says."""
    wanted: dict[str, str | None] = {"COLUMNS": "80", "TERM": "xterm-256color", "NO_COLOR": None}
    wanted.update(env or {})
    child_env = {**os.environ}
    for name, value in wanted.items():
        if value is None:
            child_env.pop(name, None)
        else:
            child_env[name] = value
    masters, slaves = zip(*(pty.openpty() for _ in range(2)), strict=True)
    outputs: list[list[bytes]] = [[], []]
    try:
        process = subprocess.Popen([sys.executable, "-m", "drsdoctor", *args], stdin=subprocess.DEVNULL,
                                   stdout=slaves[0], stderr=slaves[1], env=child_env)
    finally:
        for slave in slaves:
            os.close(slave)
    readers = [threading.Thread(target=_drain, args=(master, into), daemon=True)
               for master, into in zip(masters, outputs, strict=True)]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for reader in readers:
            reader.join(timeout=10)
        for master in masters:
            os.close(master)
    # the terminal turns each newline into CR LF
    stdout, stderr = (b"".join(chunks).decode(errors="replace").replace("\r\n", "\n") for chunks in outputs)
    return OnTerminal(process.returncode, stdout, stderr)
