"""`drsdoctor demo` as a user runs it: the fault catalogue, a bad fault name, a broken run diagnosed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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


@pytest.mark.slow
def test_a_broken_demo_prints_its_diagnosis_and_exits_with_its_code() -> None:
    done = drsdoctor("demo", "--fault", "finder-rule-disabled", "--format", "json", timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["schema"] == "drsdoctor.report/1"
    assert report["target"].startswith("arn:aws:states:us-east-1:123456789012:execution:")
    rule = "drs-orchestrator-sandbox-execution-finder-schedule"
    assert report["root_cause"]["resource"] == f"arn:aws:events:us-east-1:123456789012:rule/{rule}"
    assert "state STUCK" in done.stderr and "fault injected: finder-rule-disabled" in done.stderr
    assert "deploying the reference orchestrator" in done.stderr  # progress, as plain lines off a terminal


@pytest.mark.slow
def test_a_healthy_demo_completes_every_wave_and_exits_0() -> None:
    done = drsdoctor("demo", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "state SUCCEEDED" in done.stderr
    assert "waves: database COMPLETED, app COMPLETED, web COMPLETED" in done.stderr
    assert "recovery instances: 6" in done.stderr
    assert done.stdout.strip()  # the diagnosis, in text
