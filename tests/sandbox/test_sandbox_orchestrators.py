"""Choosing the orchestrator the sandbox deploys, as a user does (`demo --list-orchestrators`,
`--orchestrator NAME`), and a second renamed seed run to the end."""

from __future__ import annotations

import subprocess
import sys

import pytest

from drsdoctor.errors import InputError
from drsdoctor.sandbox import faults
from drsdoctor.sandbox.orchestrators import get as get_orchestrator
from drsdoctor.sandbox.orchestrators import listing
from drsdoctor.sandbox.seed import PlanSize
from drsdoctor.sandbox.world import Sandbox


def drsdoctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          timeout=60)


def test_list_orchestrators_prints_one_name_a_line_reference_first() -> None:
    done = drsdoctor("demo", "--list-orchestrators")
    assert done.returncode == 0
    assert done.stdout.splitlines() == listing()
    assert listing()[0] == "reference" and {"renamed:1", "selfpoll"} <= set(listing())


def test_list_faults_of_a_renamed_orchestrator_names_its_own_parts() -> None:
    done = drsdoctor("demo", "--list-faults", "--orchestrator", "renamed:5")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(faults.FAULTS)
    assert "EXECUTION_TABLE" in faults.FAULTS["poller-table-env-mismatch"].summary
    assert not [line for line in lines if "EXECUTION_TABLE" in line or "execution-finder" in line]


@pytest.mark.parametrize("command", [("demo",), ("sandbox", "serve")])
def test_an_unknown_orchestrator_is_a_usage_error_in_one_line(command: tuple[str, ...]) -> None:
    done = drsdoctor(*command, "--orchestrator", "ours")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "no orchestrator named 'ours'" in done.stderr and ", ".join(listing()) in done.stderr


@pytest.mark.parametrize("name", ["renamed:x", "renamed:", "renamed"])
def test_a_renamed_orchestrator_needs_an_integer_seed(name: str) -> None:
    with pytest.raises(InputError, match=r"integer seed|no orchestrator named"):
        get_orchestrator(name)


@pytest.mark.slow
def test_another_seed_runs_its_recovery_to_the_end() -> None:
    with Sandbox.start(orchestrator="renamed:11", plan=PlanSize(2, 1)) as world:
        assert world.stack_name != "drs-orchestrator-sandbox"
        outcome = world.run_until_settled(world.start_recovery())
        assert outcome.status == "SUCCEEDED", outcome
        assert outcome.wave_statuses == ["COMPLETED", "COMPLETED"]
        assert outcome.record is not None and outcome.record["status"] == "COMPLETED"
