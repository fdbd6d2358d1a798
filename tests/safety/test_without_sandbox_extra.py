"""Without the sandbox extra (no moto), `demo` and `sandbox serve` say how to install it: one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

NO_MOTO = '''
import sys


class NoMoto:
    """moto as if `pip install drsdoctor` had been run without the sandbox extra."""

    def find_spec(self, name, path=None, target=None):
        if name == "moto" or name.startswith("moto."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoMoto())
'''


@pytest.fixture(scope="module")
def without_moto(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    shim = tmp_path_factory.mktemp("nomoto")
    (shim / "sitecustomize.py").write_text(NO_MOTO)
    env = {**os.environ, "PYTHONPATH": str(shim)}
    env.pop("DRSDOCTOR_DEBUG", None)
    blocked = subprocess.run([sys.executable, "-c", "import moto"], env=env, capture_output=True, text=True)
    assert blocked.returncode != 0 and "No module named 'moto'" in blocked.stderr  # the shim works
    return env


@pytest.mark.parametrize("command", [["demo"], ["demo", "--fault", "none"], ["sandbox", "serve"]],
                         ids=" ".join)
def test_the_sandbox_commands_name_the_extra(without_moto: dict[str, str], command: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "drsdoctor", *command], env=without_moto,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "drsdoctor: the sandbox needs moto: pip install 'drsdoctor[sandbox]'"]


def test_the_fault_catalogue_still_lists_without_moto(without_moto: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "demo", "--list-faults"], env=without_moto,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "server-launch-failure" in done.stdout
