"""`diagnose --write-fixes DIR` writes the known-good definition where the printed command reads it; without
it, the command still names the file and says how to get it; a folder that cannot be written is exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli
from tests.checks.builders import DEFINITION, SM_ARN
from tests.fixes.cli_parse import parse
from tests.fixes.test_fix_commands import _drifted_with_template

FILE = "drs-orchestrator.asl.json"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drift") / "bundle.json"
    _drifted_with_template().save(path)
    return path


def diagnose(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["diagnose", *args])
    assert not isinstance(result.exception, Exception), result.output
    return result.exit_code, result.stdout, result.stderr


def test_write_fixes_writes_the_definition_the_command_reads(bundle: Path, tmp_path: Path) -> None:
    folder = tmp_path / "fixes"
    code, out, _ = diagnose("--from-bundle", str(bundle), "--write-fixes", str(folder), "--format", "json")
    assert code == 1
    cause = json.loads(out)["root_cause"]
    assert cause["check"] == "SFN005"
    (update,) = cause["fix"]["commands"]
    assert update["argv"][-1] == f"file://{folder}/{FILE}" and cause["remediation"] == update["line"]
    assert json.loads((folder / FILE).read_text()) == DEFINITION
    assert cause["fix"]["files_note"] == f"written: {folder}/{FILE}"
    call = parse(update["argv"])  # the AWS CLI reads the written file as the definition
    assert call.params["stateMachineArn"] == SM_ARN and json.loads(call.params["definition"]) == DEFINITION


def test_without_write_fixes_the_command_names_the_file_and_how_to_get_it(
        bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = diagnose("--from-bundle", str(bundle), "--format", "text")
    assert code == 1
    lines = out.splitlines()
    fix = lines.index("  FIX:")
    assert lines[fix + 1].strip() == (f"aws stepfunctions update-state-machine --state-machine-arn {SM_ARN} "
                                      f"--definition file://drsdoctor-fixes/{FILE}")
    # the note is prose, wrapped to the terminal's width: read it as words
    assert f"run this diagnose again with --write-fixes drsdoctor-fixes to write drsdoctor-fixes/{FILE}" in (
        " ".join(out.split()))
    assert not (tmp_path / "drsdoctor-fixes").exists()  # nothing written unless asked


def test_a_folder_that_cannot_be_written_is_one_line_and_exit_2(bundle: Path, tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "diagnose", "--from-bundle", str(bundle),
                           "--write-fixes", str(taken / "sub")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    expected = f"drsdoctor: --write-fixes {taken / 'sub'}: cannot write the fix files there: Not a directory"
    assert done.stderr.strip().splitlines() == [expected], done.stderr
