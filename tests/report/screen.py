"""What an operator's 80x50 terminal shows of a diagnosis: asserted for every fault of the catalogue where
its diagnosis is already paid for (tests/diagnose/test_scenarios_cli.py saves each one's bundle)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from drsdoctor.engine import Report
from drsdoctor.report.layout import is_command_line
from drsdoctor.snapshot import Snapshot

SCREEN, COLUMNS = 50, 80
# "18:47:26 UTC, 20 minutes ago": a moment and its age, as every check writes them
MOMENT = re.compile(r"(\d\d):(\d\d):(\d\d) UTC, (\d+) (second|minute|hour|day)s? ago")
SPAN = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def newest_fact(snap: Snapshot) -> datetime | None:
    """The newest moment among the facts that change while a recovery runs."""
    moments = [event.timestamp for event in snap.history.events] if snap.history else []
    record = snap.execution_record
    if record is not None:
        moments += [m for m in [record.updated_at, *(wave.updated_at for wave in record.waves)] if m]
    moments += [f.last_invocation for f in snap.functions if f.last_invocation]
    return max(moments, default=None)


def commands_of(report: Report) -> set[str]:
    """Every command the findings' fixes give, each as it is pasted."""
    commands = {line.strip() for finding in report.findings for line in finding.remediation.splitlines()}
    commands |= {command.line for finding in report.findings if finding.remedy
                 for command in finding.remedy.commands}
    return commands - {""}


def assert_fits_one_screen(text: str, report: Report) -> None:
    """At most 50 lines; none wider than 80 but a whole command, exactly as the finding gave it."""
    lines = text.rstrip("\n").splitlines()
    assert len(lines) <= SCREEN, f"{len(lines)} lines:\n{text}"
    wide = [line for line in lines if len(line) > COLUMNS]
    commands = commands_of(report)
    for line in wide:
        assert is_command_line(line) and line.strip() in commands, f"a line of {len(line)} columns:\n{line}"


def assert_times_agree(text: str, now: datetime) -> None:
    """Every moment the report prints with its age is aged from the report's one "now"."""
    for match in MOMENT.finditer(text):
        hours, minutes, seconds, count, unit = match.groups()
        moment = now.replace(hour=int(hours), minute=int(minutes), second=int(seconds), microsecond=0)
        age = (now.replace(microsecond=0) - moment).total_seconds() % 86400
        assert int(age // SPAN[unit]) == int(count), f"{match.group(0)} at {now:%H:%M:%S}"


def check_bundle(path: Path) -> int:
    """The checks above on a saved diagnosis, as `diagnose --from-bundle` at COLUMNS=80 prints it; also that
    no fact read is newer than the report's "now". Its line count."""
    from drsdoctor.engine import diagnose
    from drsdoctor.report import render

    snap = Snapshot.load(path)
    newest = newest_fact(snap)
    assert snap.collected_at is not None
    assert newest is None or newest <= snap.collected_at, f"a fact of {newest}, after now {snap.collected_at}"
    report = diagnose(snap)
    text = render(report, "text", color=False, width=COLUMNS)  # as diagnose --from-bundle prints it
    assert_fits_one_screen(text, report)
    assert_times_agree(text, snap.collected_at)
    return len(text.splitlines())
