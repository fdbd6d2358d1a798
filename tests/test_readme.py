"""The README shows what works: its example check runs as a third-party check, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from drsdoctor.engine import diagnose
from tests.checks.builders import healthy

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_example_check_runs_from_a_checks_dir(tmp_path: Path) -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code, "the README has a python example"
    (tmp_path / "acme.py").write_text(code.group(1))
    snap = healthy()
    poller = snap.function_of_kind("poller")
    assert poller is not None
    poller.environment.pop("DRS_REGION", None)
    report = diagnose(snap, checks_dirs=(str(tmp_path),), only=("ACME001",))
    [finding] = report.findings
    assert (finding.check, finding.status) == ("ACME001", "fail")
    assert poller.name in finding.detail
    assert poller.name in finding.remediation


def test_quick_start_has_exactly_two_setup_commands_and_ci_runs_the_second() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2
    assert commands[0].endswith("drsdoctor demo")
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert commands[1] in ci
