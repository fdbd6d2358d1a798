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


def _readme_commands() -> list[str]:
    """Every drsdoctor command line the README shows, in a bash block or inline code."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)\n```", README, re.S):
        lines += block.replace("\\\n", " ").splitlines()
    lines += re.findall(r"`((?:\.venv/bin/)?drsdoctor [^`]*)`", README)
    found = []
    for line in lines:
        line = re.split(r"\s[12]?>", line.split(" #", 1)[0])[0]  # without its redirection: `> world.json`
        for part in re.split(r"&&|\|", line):
            words = part.strip().rstrip("&").strip()
            match = re.match(r"(?:\.venv/bin/)?drsdoctor( .*)?$", words)
            if match:
                found.append(words)
    return found


def _parse(line: str) -> None:
    """Parse `line` as drsdoctor would, down to the command that would run, without running it."""
    import shlex

    import click

    from drsdoctor.cli import cli

    # <placeholders> stand for a value; [--optional parts] are usage notation (the commands table)
    args = shlex.split(re.sub(r"\[[^\]]*\]", "", re.sub(r"<[^>]*>", "x", line)))[1:]
    command: click.Command = cli
    ctx = command.make_context("drsdoctor", args, resilient_parsing=False)
    while isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            break
        name, found, rest = command.resolve_command(ctx, rest)
        assert found is not None and name is not None
        command, ctx = found, found.make_context(name, rest, parent=ctx)


def test_every_command_line_the_readme_shows_parses() -> None:
    commands = _readme_commands()
    assert len(commands) >= 15 and any("--state-machine" in c for c in commands)
    refused = []
    for line in commands:
        try:
            _parse(line)
        except Exception as error:  # click's UsageError and BadParameter, with the line that caused it
            refused.append(f"`{line}`: {error}")
    assert refused == []


def test_after_the_quick_start_every_example_runs_as_shown_from_the_clone() -> None:
    """The Quick start's venv is not activated: an example calls its programs as `.venv/bin/NAME`, and each
    NAME is one the Quick start's first command installs (the aws CLI comes with the sandbox extra)."""
    after = README.split("## Quick start", 1)[1].split("\n## ", 1)[1]
    programs: set[str] = set()
    for block in re.findall(r"```bash\n(.*?)\n```", after, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = re.split(r"[\s;&|()\"$]+", line.split(" #", 1)[0])
            assert not {"drsdoctor", "aws", "pip", "python"} & set(words), f"a bare program in: {line}"
            programs |= {word.split("/")[-1] for word in words if word.startswith(".venv/bin/")}
    assert {"drsdoctor", "aws"} <= programs
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    sandbox_extra = re.search(r"^sandbox = (.*)$", pyproject, re.M)
    assert sandbox_extra and '"awscli' in sandbox_extra.group(1)
    assert "'.[sandbox]'" in README.split("## Quick start", 1)[1].split("```bash\n", 1)[1].split("\n", 1)[0]


def test_the_fleet_summary_reads_as_the_readme_shows_it() -> None:
    from datetime import datetime, timezone

    from drsdoctor.report.fleet import Fleet, FleetRow

    fine, broken = diagnose(healthy()), diagnose(healthy(execution_record=None))
    rows = [FleetRow(arn=f"arn:run-{n}", name=f"run-{n}", status="RUNNING", report=report)
            for n, report in enumerate([fine, fine, broken])]
    fleet = Fleet(machine="machine", selection="running", collected_at=datetime.now(timezone.utc), rows=rows)
    assert f"`{fleet.summary_line()}`" in README
