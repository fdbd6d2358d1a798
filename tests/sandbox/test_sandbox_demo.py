"""`drsdoctor demo` as a user runs it: the fault catalogue, a bad fault name, a broken run diagnosed."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drsdoctor.sandbox import faults
from tests.report.terminal import Running


def drsdoctor(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_list_faults_prints_the_catalogue_one_line_each() -> None:
    done = drsdoctor("demo", "--list-faults")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(faults.FAULTS)
    assert all(fault.summary in line for fault, line in zip(faults.FAULTS.values(), lines, strict=True))


def test_an_unknown_fault_is_a_usage_error_in_one_line() -> None:
    done = drsdoctor("demo", "--fault", "rule-gone")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no fault named 'rule-gone'" in done.stderr
    assert "Traceback" not in done.stderr


# Both demos start at once: each spends most of its run waiting on its own world's clock. The healthy one runs
# on a terminal (pseudo-terminals for stdout and stderr) with NO_COLOR set, as an operator who asked for no
# colour would run it.
DEMOS = {"broken": ("demo", "--fault", "finder-rule-disabled", "--format", "json")}
ON_TERMINAL = {"healthy": (("demo",), {"NO_COLOR": "1"})}


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Callable[[], Done]]]:
    folder = tmp_path_factory.mktemp("demos")
    running: dict[str, tuple[subprocess.Popen[str], Path, Path]] = {}
    for name, args in DEMOS.items():
        out, err = folder / f"{name}.out", folder / f"{name}.err"
        with out.open("w") as stdout, err.open("w") as stderr:  # files, not pipes: nobody reads until the end
            running[name] = (subprocess.Popen([sys.executable, "-m", "drsdoctor", *args], stdout=stdout,
                                              stderr=stderr, text=True), out, err)
    on_terminal = {name: Running(args, env) for name, (args, env) in ON_TERMINAL.items()}

    def finished(name: str) -> Done:
        if name in on_terminal:
            done = on_terminal[name].finish()
            return Done(done.returncode, done.stdout, done.stderr, done.escapes())
        process, out, err = running[name]
        process.wait(timeout=300)
        return Done(process.returncode, out.read_text(), err.read_text())

    try:
        yield {name: functools.partial(finished, name) for name in [*DEMOS, *ON_TERMINAL]}
    finally:
        for process, _, _ in running.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        for terminal in on_terminal.values():
            terminal.kill()


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str
    escapes: int = 0  # escape codes written, on a terminal


@pytest.mark.slow
def test_a_broken_demo_prints_its_diagnosis_and_exits_with_its_code(
        demos: dict[str, Callable[[], Done]]) -> None:
    done = demos["broken"]()
    assert done.returncode == 1, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["schema"] == "drsdoctor.report/1"
    assert report["target"].startswith("arn:aws:states:us-east-1:123456789012:execution:")
    rule = "drs-orchestrator-sandbox-execution-finder-schedule"
    assert report["root_cause"]["resource"] == f"arn:aws:events:us-east-1:123456789012:rule/{rule}"
    assert "state STUCK" in done.stderr and "fault injected: finder-rule-disabled" in done.stderr
    assert "deploying the reference orchestrator" in done.stderr  # progress, as plain lines off a terminal


@pytest.mark.slow
def test_a_healthy_demo_completes_every_wave_and_exits_0(demos: dict[str, Callable[[], Done]]) -> None:
    done = demos["healthy"]()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "state SUCCEEDED" in done.stderr
    assert "waves: database COMPLETED, app COMPLETED, web COMPLETED" in done.stderr
    assert "recovery instances: 6" in done.stderr
    assert done.stdout.strip()  # the diagnosis, in text
    # on a terminal with NO_COLOR: not one escape code, in the report or the progress; and the progress
    # lines carry no source location (rich's log() added demo.py:74)
    assert done.escapes == 0, done.stdout[:1000] + done.stderr[:1000]
    assert "demo.py:" not in done.stderr and "deploying the reference orchestrator" in done.stderr
