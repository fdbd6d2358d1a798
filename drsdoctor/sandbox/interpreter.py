"""The interpreter a function runs under: the `pythonX.Y` its Runtime names when that is installed here
(found on PATH and really that version: a pyenv shim for a missing version is on PATH and fails), else the
sandbox's own, with a line for the function's log saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from typing import Any

_PYTHON_RUNTIME = re.compile(r"python(3\.\d+)")
_interpreters: dict[tuple[str, str], str | None] = {}


def probe_installed(command: str, version: str) -> str | None:
    """The interpreter's path when `command` is on PATH and really runs Python `version` (a pyenv shim for
    a version that is not installed is on PATH and fails)."""
    if (command, version) not in _interpreters:
        path = shutil.which(command)
        try:
            ran = path is not None and subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                text=True, timeout=10).stdout.strip() == version
        except (OSError, subprocess.SubprocessError):
            ran = False
        _interpreters[command, version] = path if ran else None
    return _interpreters[command, version]


def interpreter_for(runtime: str | None, probe: Any = None) -> tuple[str, str]:
    """(executable, notice) for a function's `Runtime`: the interpreter it names when installed, else the
    sandbox's own with a line for the function's log saying so."""
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    match = _PYTHON_RUNTIME.fullmatch(runtime or "")
    if match is None or match.group(1) == own:
        return sys.executable, ""
    path = (probe or probe_installed)(f"python{match.group(1)}", match.group(1))
    if path:
        return path, ""
    return sys.executable, (f"SANDBOX: {runtime} is not installed here; this function runs on the sandbox's "
                            f"python{own}\n")
