"""Every --help ends with examples that parse; the shells complete check ids, faults and orchestrators.

Completion is asked as each shell asks it: the `_DRSDOCTOR_COMPLETE` protocol in a real drsdoctor process,
and for bash through the completion script itself in a real bash.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli
from tests.test_readme import _parse

ROOT = Path(__file__).parent.parent
DRSDOCTOR = [sys.executable, "-m", "drsdoctor"]


def every_command() -> list[tuple[str, ...]]:
    """The path of every command and group, the top one included: (), ("diagnose",), ("iam", "simulate")..."""
    paths: list[tuple[str, ...]] = [()]
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        paths.append((name,))
        if isinstance(command, click.Group):
            paths += [(name, sub) for sub in command.list_commands(ctx)]
    return paths


@pytest.mark.parametrize("path", every_command(), ids=lambda path: " ".join(path) or "drsdoctor")
def test_every_help_ends_with_examples_of_that_command_that_parse(path: tuple[str, ...]) -> None:
    shown = CliRunner().invoke(cli, [*path, "--help"], prog_name="drsdoctor", terminal_width=100)
    assert shown.exit_code == 0, shown.output
    examples = re.split(r"\n *Examples:\n", shown.output.rstrip())
    assert len(examples) == 2, f"no Examples section at the end of {' '.join(path)} --help"
    lines = [line.strip() for line in examples[1].splitlines()]
    assert 1 <= len(lines) <= 2
    for line in lines:
        assert line.startswith(" ".join(("drsdoctor", *path))), line
        _parse(line)  # each example is a command line drsdoctor accepts, as written


def complete(shell: str, words: str, incomplete: str) -> list[str]:
    """What drsdoctor answers a shell's completion request for `words` + `incomplete` (click's protocol)."""
    env = {**os.environ, "_DRSDOCTOR_COMPLETE": f"{shell}_complete", "COMP_WORDS": f"{words} {incomplete}",
           "COMP_CWORD": incomplete if shell == "fish" else str(len(words.split()))}
    done = subprocess.run(DRSDOCTOR, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.splitlines()


def test_zsh_completes_check_ids_with_their_titles() -> None:
    answer = complete("zsh", "drsdoctor diagnose --skip", "evt")
    values = answer[1::3]  # zsh: type, value, help; one line each
    assert values and all(value.startswith("EVT") for value in values)
    assert "EVT001" in values
    assert answer[answer.index("EVT001") + 1] == "The execution-finder schedule rule is enabled"


def test_fish_completes_orchestrator_names() -> None:
    answer = complete("fish", "drsdoctor sandbox serve --orchestrator", "s")
    assert answer == ["plain,selfpoll", "plain,selfpoll-xaccount"]


def test_bash_completes_the_fault_names_of_the_orchestrator_chosen_before() -> None:
    """The script `bash_source` prints, sourced into a real bash and called as bash calls it on a TAB."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = subprocess.run(DRSDOCTOR, env={**os.environ, "_DRSDOCTOR_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert script.returncode == 0 and "complete " in script.stdout
    # the script runs the command word it was given: the installed console script
    shim = Path(sys.executable).parent / "drsdoctor"
    if not shim.exists():
        pytest.skip(f"no {shim}: drsdoctor is not installed in this interpreter's environment")
    call = f"""
        {script.stdout}
        COMPREPLY=(); COMP_WORDS=({shim} demo --orchestrator selfpoll --fault pro); COMP_CWORD=5
        _drsdoctor_completion {shim}
        printf '%s\\n' "${{COMPREPLY[@]}}"
        COMPREPLY=(); COMP_WORDS=({shim} demo --fault fin); COMP_CWORD=3
        _drsdoctor_completion {shim}
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    done = subprocess.run([bash, "-c", call], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "probe-missing-drs-describe", "probe-import-failure", "probe-choice-drift",  # selfpoll's
        "finder-rule-disabled", "finder-permission-removed"]  # the reference's


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_get_a_completion_script(shell: str) -> None:
    done = subprocess.run(DRSDOCTOR, env={**os.environ, "_DRSDOCTOR_COMPLETE": f"{shell}_source"},
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0 and "_DRSDOCTOR_COMPLETE" in done.stdout
