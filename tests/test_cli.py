"""The command line's own contract: fast help, named exit codes, one-line errors, a "did you mean"."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from drsdoctor import __version__, exitcodes
from drsdoctor.cli import COMMANDS


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          timeout=120)


def imported_modules_after(*args: str) -> set[str]:
    """The modules a command imports, seen from inside the same interpreter that ran it."""
    code = ("import sys, json\nfrom drsdoctor.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_lists_every_command_in_table_order() -> None:
    done = run_cli("--help")
    assert done.returncode == exitcodes.OK
    lines = done.stdout.split("Commands:")[1].split("\n\n")[0].splitlines()  # the section, not the examples
    listed = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert listed == list(COMMANDS)


def test_help_imports_neither_boto3_nor_moto() -> None:
    modules = imported_modules_after("--help")
    assert not {name for name in modules if name.split(".")[0] in {"boto3", "botocore", "moto"}}


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == exitcodes.OK
    assert __version__ in done.stdout


@pytest.mark.parametrize(("typo", "suggestion"), [("diagnos", "diagnose"), ("dif-stacks", "diff-stacks"),
                                                   ("premissions", "permissions")])
def test_mistyped_command_gets_did_you_mean_and_exit_2(typo: str, suggestion: str) -> None:
    done = run_cli(typo)
    assert done.returncode == exitcodes.USAGE
    assert f"Did you mean '{suggestion}'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_option_is_a_usage_error() -> None:
    done = run_cli("--no-such-option")
    assert done.returncode == exitcodes.USAGE
    assert "Traceback" not in done.stderr


def test_every_command_in_the_table_imports_and_has_help() -> None:
    for name in COMMANDS:
        done = run_cli(name, "--help")
        assert done.returncode == exitcodes.OK, (name, done.stderr)
        assert "Usage:" in done.stdout
