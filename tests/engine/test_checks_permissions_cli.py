"""`drsdoctor checks` and `drsdoctor permissions`, run as an operator runs them (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from drsdoctor.snapshot import fact_actions, optional_fact_actions


def drsdoctor(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_checks_lists_every_check_with_the_actions_it_needs() -> None:
    result = drsdoctor("checks", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout)["checks"]}
    assert len(rows) >= 22
    assert rows["EVT001"]["service"] == "events" and rows["EVT001"]["severity"] == "critical"
    assert "events:DescribeRule" in rows["EVT001"]["actions"]
    assert rows["DRS002"]["actions"] == ["drs:DescribeJobLogItems"]


def test_checks_text_lists_id_service_severity_title_and_needs() -> None:
    result = drsdoctor("checks")
    assert result.returncode == 0
    assert any(line.startswith("EVT001") and "The execution-finder schedule rule is enabled" in line
               for line in result.stdout.splitlines())
    assert "needs: drs:DescribeJobs" in result.stdout


def test_checks_imports_neither_boto3_nor_moto() -> None:
    probe = textwrap.dedent("""
        import sys
        from drsdoctor.cli import main
        try:
            main(["checks", "--format", "json"])
        except SystemExit:
            pass
        heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("boto3", "botocore", "moto"))
        print("HEAVY", heavy, file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stderr, result.stderr


def test_checks_dir_adds_a_teams_check(tmp_path: Path) -> None:
    (tmp_path / "team.py").write_text(textwrap.dedent('''
        from drsdoctor.checkapi import check, LOW
        @check(id="TEAM042", service="lambda", severity=LOW, title="Team rule", reads=("functions",))
        def team(snap):
            return []
    '''))
    result = drsdoctor("checks", "--checks-dir", str(tmp_path), "--format", "json")
    assert "TEAM042" in {row["id"] for row in json.loads(result.stdout)["checks"]}


def test_a_broken_checks_dir_is_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def (:\n")
    result = drsdoctor("checks", "--checks-dir", str(tmp_path))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "SyntaxError" in result.stderr


def test_permissions_prints_a_read_only_policy_covering_every_declared_fact() -> None:
    result = drsdoctor("permissions")
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)
    assert policy["Version"] == "2012-10-17"
    granted = {action for statement in policy["Statement"] for action in statement["Action"]}
    declared = {action for actions in fact_actions().values() for action in actions}
    optional = {action for actions in optional_fact_actions().values() for action in actions}
    assert declared - optional <= granted and not optional & granted
    with_optional = json.loads(drsdoctor("permissions", "--include-optional").stdout)
    assert declared <= {action for statement in with_optional["Statement"] for action in statement["Action"]}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        for action in statement["Action"]:
            assert action.split(":")[1].startswith(("Describe", "Get", "List", "Query", "Filter", "Simulate"))


def test_permissions_written_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "policy.json"
    assert drsdoctor("permissions", "--output", str(out)).returncode == 0
    assert json.loads(out.read_text())["Statement"]


def _plugin(site: Path, body: str) -> None:
    """A distribution on sys.path that registers the drsdoctor.checks entry point, as pip would install it."""
    (site / "teamchecks").mkdir(parents=True)
    (site / "teamchecks" / "__init__.py").write_text(textwrap.dedent(body))
    info = site / "teamchecks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: teamchecks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[drsdoctor.checks]\nteam = teamchecks\n")


def test_an_installed_plugin_registers_its_checks_through_the_entry_point(tmp_path: Path) -> None:
    _plugin(tmp_path, '''
        from drsdoctor.checkapi import check, passed, LOW
        @check(id="PLUG001", service="drs", severity=LOW, title="Plugin check", reads=("drs_jobs",))
        def plugged(snap):
            yield passed(snap.target, "fine")
    ''')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "drsdoctor", "checks", "--format", "json"], env=env,
                            capture_output=True, text=True, timeout=60)
    rows = {row["id"]: row for row in json.loads(result.stdout)["checks"]}
    assert rows["PLUG001"]["actions"] == ["drs:DescribeJobs"]


def test_a_broken_plugin_is_a_warning_and_the_built_in_checks_still_load(tmp_path: Path) -> None:
    _plugin(tmp_path, "raise RuntimeError('half-installed')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "drsdoctor", "checks"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    warning = "warning: entry point team (teamchecks) did not load: RuntimeError: half-installed"
    assert warning in result.stdout
    assert "EVT001" in result.stdout


def test_permissions_include_what_other_commands_declare() -> None:
    import importlib

    from drsdoctor.commands.permissions import DECLARING_MODULES, required_actions

    needed = required_actions()
    for name in DECLARING_MODULES:
        for action in getattr(importlib.import_module(name), "READ_ACTIONS", ()):
            assert name in needed[action]


def test_checks_and_permissions_agree_on_what_is_needed_and_what_is_optional() -> None:
    """`checks` once listed lambda:ListTags and iam:SimulatePrincipalPolicy as needed while `permissions`
    called them optional: both now read the one declaration (the Snapshot's facts)."""
    rows = json.loads(drsdoctor("checks", "--format", "json").stdout)["checks"]
    needed = {action for row in rows for action in row["actions"]}
    optional = {action for row in rows for action in row["optional_actions"]}
    policy = json.loads(drsdoctor("permissions").stdout)
    granted = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert needed <= granted  # every action a check needs, the policy grants
    assert optional and not optional & granted  # what checks calls optional, permissions leaves out
    assert {"lambda:ListTags", "iam:SimulatePrincipalPolicy"} <= optional
    assert not {"lambda:ListTags", "iam:SimulatePrincipalPolicy"} & needed
