"""NO_COLOR and --no-color, honoured by every command on a real terminal: not one escape code is written.

Each command runs in a child whose stdout and stderr are pseudo-terminals (tests/report/terminal.py), the
way an operator's shell runs it, so colour would be on if nothing turned it off: the first test proves it is.
`demo` is covered where its run is already paid for (tests/sandbox/test_sandbox_demo.py).
"""

from __future__ import annotations

import io
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from tests.report.terminal import OnTerminal, run_on_terminal

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import NOW, stuck

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    broken = stuck()
    broken.rules[0].state = "DISABLED"
    for function in broken.functions_of_kind("finder", "poller"):
        function.last_invocation = NOW - timedelta(minutes=38)
    path = tmp_path_factory.mktemp("no-color") / "broken.json"
    broken.save(path)
    return path


def _commands(bundle: Path) -> dict[str, tuple[str, ...]]:
    """One run of each command that writes something worth colouring, offline and quick."""
    return {
        "diagnose --long": ("diagnose", "--from-bundle", str(bundle), "--long"),
        "diff-stacks": ("diff-stacks", str(EXAMPLES / "templates" / "archive.yaml"),
                        str(EXAMPLES / "templates" / "current.yaml")),
        "iam simulate": ("iam", "simulate", "--policy", str(EXAMPLES / "policies" / "drs-poller.json"),
                         "--action", "drs:DescribeJobs", "--action", "drs:StartRecovery"),
        "checks": ("checks",),
        "permissions": ("permissions", "--format", "text"),
        "demo --list-faults": ("demo", "--list-faults"),
    }


Runs = dict[str, tuple[tuple[str, ...], dict[str, "str | None"]]]


def _all(runs: Runs) -> dict[str, OnTerminal]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # children: they wait on the CPU, not on each other
        futures = {name: pool.submit(run_on_terminal, *args, env=env) for name, (args, env) in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def _plain(done: OnTerminal, name: str) -> None:
    assert "Traceback" not in done.stderr, (name, done.stderr)
    assert done.returncode in (0, 1), (name, done.returncode, done.stderr)
    assert done.stdout.strip(), name
    assert done.escapes() == 0, (name, done.stdout[:500], done.stderr[:500])


def test_no_command_writes_an_escape_code_on_a_terminal_with_no_color_set(bundle: Path) -> None:
    runs: Runs = {name: (args, {"NO_COLOR": "1"}) for name, args in _commands(bundle).items()}
    runs["control"] = (("diagnose", "--from-bundle", str(bundle)), {"NO_COLOR": ""})
    done = _all(runs)
    # the control: on the same terminal, with NO_COLOR set but empty (no-color.org: it does not count), the
    # report is coloured, so the runs above would show any colour left on
    control = done.pop("control")
    assert control.returncode == 1 and control.escapes() > 10
    for name, result in done.items():
        _plain(result, name)


def test_no_color_the_option_does_what_the_variable_does(bundle: Path) -> None:
    """--no-color is a common option: the report and a listing, as representatives."""
    done = _all({"diagnose": (("diagnose", "--from-bundle", str(bundle), "--no-color"), {}),
                 "checks": (("checks", "--no-color"), {})})
    for name, result in done.items():
        _plain(result, name)


def test_the_demo_progress_runs_its_elapsed_time_live_without_source_locations() -> None:
    """On a terminal each step is printed once as it starts, and the status line under it shows the time
    going on while the step runs (not the time the step began); rich's log() would add `demo.py:NN`."""
    from rich.console import Console

    from drsdoctor.sandbox.demo import ProgressDisplay

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [100.0]
    stream = Terminal()
    display = ProgressDisplay(stream, clock=lambda: now[0], live=True)
    display.step("deploying the reference orchestrator")
    now[0] = 106.5  # the deployment has run 6.5 s: the status line says so at its next refresh
    frame = Console(file=io.StringIO(), width=120, color_system=None)
    with frame.capture() as captured:
        frame.print(display._status.renderable)  # the status line as its next refresh draws it
    display.step("recovery started")
    display.close()
    written = stream.getvalue()
    assert captured.get().strip().endswith("[  6.5s] deploying the reference orchestrator")
    assert "[  0.0s] deploying the reference orchestrator" in written
    assert "[  6.5s] recovery started" in written
    assert "demo.py" not in written
