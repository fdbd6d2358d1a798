"""The wheel ships the built-in checks: installed from it, the engine finds and registers them.

Built from a copy of the sources so the working tree gets no build/ or egg-info; every step is
bounded in time so the test stays well under 30 seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
SOURCES = ("pyproject.toml", "README.md", "drsdoctor", "checks")

PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import drsdoctor, drsdoctor.checks
from drsdoctor.engine import load_checks
print(drsdoctor.__file__)
print(drsdoctor.checks.__file__)
print(" ".join(spec.id for spec in load_checks(entry_points=False).checks))
"""


def test_the_installed_wheel_finds_the_built_in_checks(tmp_path: Path) -> None:
    source, wheels, target = tmp_path / "src", tmp_path / "wheels", tmp_path / "site"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(source), "--no-deps", "-w", str(wheels)], check=True, timeout=60,
                   cwd=tmp_path, capture_output=True)
    (wheel,) = wheels.glob("drsdoctor-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True,
                   timeout=60, capture_output=True)
    # -I: no PYTHONPATH, no user site, no cwd on sys.path: only the wheel's files can be imported as drsdoctor
    result = subprocess.run([sys.executable, "-I", "-c", PROBE, str(target)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    package, checks_package, ids = result.stdout.splitlines()
    assert package.startswith(str(target)) and checks_package.startswith(str(target))
    assert {"EVT001", "SFN002", "LMB001", "DDB003", "DRS003", "IAM001"} <= set(ids.split())


def test_every_package_of_the_source_is_listed_for_the_wheel() -> None:
    """A package missing from pyproject's list is missing after `pip install .` (editable hides it)."""
    import re

    listed = set(re.findall(r'^\s+"(drsdoctor[\w.]*)",$', (ROOT / "pyproject.toml").read_text(), re.M))
    inits = (ROOT / "drsdoctor").rglob("__init__.py")
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in inits}
    assert found - listed == set()
