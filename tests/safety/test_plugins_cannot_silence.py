"""A --checks-dir plugin cannot silence a failing diagnosis: sys.exit (or any BaseException but Ctrl-C)
while importing is one line naming the module, exit 2; while checking, an error finding, the rest still run.

Real processes: a plugin's SystemExit once became the process's exit code (0, no output).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import stuck

EXITS_WHILE_CHECKING = '''
import sys

from drsdoctor.checkapi import LOW, check


class Stop(BaseException):
    pass


@check(id="ZZX001", service="lambda", severity=LOW, title="exits", reads=("functions",))
def exits(snap):
    sys.exit(0)


@check(id="ZZX002", service="lambda", severity=LOW, title="raises a BaseException", reads=("functions",))
def stops(snap):
    yield from ()
    raise Stop("halt")
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plugins") / "stuck.json"
    stuck().save(path)
    return path


def diagnose(bundle: Path, plugins: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", "diagnose", "--from-bundle", str(bundle),
                           "--checks-dir", str(plugins), *args], capture_output=True, text=True, timeout=120)


def test_a_module_that_exits_on_import_is_one_line_naming_it(bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "quitter.py").write_text("import sys\nsys.exit(0)\n")
    done = diagnose(bundle, tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("drsdoctor: check module ") and "quitter.py" in line


@pytest.mark.parametrize("body", ["raise GeneratorExit('bye')\n",
                                  "class Stop(BaseException):\n    pass\n\nraise Stop()\n"],
                         ids=["GeneratorExit", "own BaseException"])
def test_any_base_exception_on_import_is_one_line(bundle: Path, tmp_path: Path, body: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from drsdoctor.cli import main

    (tmp_path / "stopper.py").write_text(body)
    with pytest.raises(SystemExit) as done:
        main(["diagnose", "--from-bundle", str(bundle), "--checks-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert done.value.code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("drsdoctor: check module ") and "stopper.py" in line


def test_a_check_that_exits_is_an_error_and_the_diagnosis_still_fails(bundle: Path, tmp_path: Path) -> None:
    (tmp_path / "exits.py").write_text(EXITS_WHILE_CHECKING)
    done = diagnose(bundle, tmp_path, "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    findings = {f["check"]: f for f in report["findings"]}
    assert findings["ZZX001"]["status"] == "error" and "SystemExit" in findings["ZZX001"]["detail"]
    assert findings["ZZX002"]["status"] == "error" and "Stop: halt" in findings["ZZX002"]["detail"]
    assert report["root_cause"] is not None  # the built-in checks ran and named the cause
