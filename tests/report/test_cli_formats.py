"""A saved bundle diagnosed from the command line in every format: what an operator pastes and pipes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import NOW, healthy, stuck


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bundles")
    broken = stuck()
    broken.rules[0].state = "DISABLED"
    for function in broken.functions_of_kind("finder", "poller"):
        function.last_invocation = NOW - timedelta(minutes=38)
    paths = {"broken": folder / "broken.json", "healthy": folder / "healthy.json"}
    broken.save(paths["broken"])
    healthy().save(paths["healthy"])
    return paths


def _junit_failures(xml: str) -> set[str]:
    return {case.get("classname", "") for case in ET.fromstring(xml).iter("testcase")
            if case.find("failure") is not None}


def _after_root_cause(text: str) -> str:
    """The line under the text report's ROOT CAUSE heading (the header above it wraps to the width)."""
    lines = text.splitlines()
    return lines[lines.index("ROOT CAUSE") + 1].lstrip()


def diagnose(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "drsdoctor", "diagnose", "--from-bundle", str(bundle), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("fmt", "parse"), [
    ("json", lambda out: json.loads(out)["root_cause"]["check"]),
    ("sarif", lambda out: json.loads(out)["runs"][0]["properties"]["rootCause"]),
    ("junit", lambda out: "EVT001" if "drsdoctor.events.EVT001" in _junit_failures(out) else None),
    ("markdown", lambda out: "EVT001" if "**EVT001** (cause" in out else None),
    ("text", lambda out: "EVT001" if _after_root_cause(out).startswith("[EVT001]") else None),
])
def test_a_broken_bundle_names_the_rule_in_every_format_and_exits_1(bundles, fmt: str, parse) -> None:
    result = diagnose(bundles["broken"], "--format", fmt)
    assert result.returncode == 1, result.stderr
    assert parse(result.stdout) == "EVT001"


def test_verbose_lists_every_finding_as_long_does(bundles) -> None:
    """By default the text report lists the problems; -v (like --long) every finding, passes included."""
    verbose = diagnose(bundles["broken"], "-v").stdout
    assert "✔ EVT002 rule drs-execution-finder-schedule runs on rate(1 minute)" in verbose
    assert "EventBridge\n  ✖ EVT001" in verbose  # grouped by service


def test_a_healthy_bundle_exits_0_with_no_root_cause(bundles) -> None:
    result = diagnose(bundles["healthy"], "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["root_cause"] is None


def test_check_and_skip_select_checks_by_id(bundles) -> None:
    result = diagnose(bundles["broken"], "--format", "json", "--check", "EVT001", "--check", "EVT002")
    assert {f["check"] for f in json.loads(result.stdout)["findings"]} == {"EVT001", "EVT002"}
    result = diagnose(bundles["broken"], "--format", "json", "--skip", "EVT001")
    data = json.loads(result.stdout)
    assert "EVT001" not in {f["check"] for f in data["findings"]}


def test_an_unknown_check_id_is_exit_2_with_a_suggestion(bundles) -> None:
    result = diagnose(bundles["broken"], "--check", "EVT01")
    assert result.returncode == 2
    assert "did you mean EVT001" in result.stderr and "Traceback" not in result.stderr
