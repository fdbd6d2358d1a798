"""`drsdoctor demo` as a user runs it: the fault catalogue and a bad fault name (runs: world tests)."""

from __future__ import annotations

import subprocess
import sys

from drsdoctor.sandbox import faults


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
