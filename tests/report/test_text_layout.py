"""The text report on a terminal of any width: wrapped with a hanging indent, commands whole on their own
line, the root cause and its fix again at the end; its width from COLUMNS, the terminal, or 100."""

from __future__ import annotations

import io
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import NOW, stuck

from drsdoctor.engine import Report, diagnose
from drsdoctor.report import render, terminal
from drsdoctor.report.layout import is_command_line

FIX = "aws events enable-rule --name drs-execution-finder-schedule"


@pytest.fixture(scope="module")
def broken() -> Report:
    snap = stuck()
    snap.rules[0].state = "DISABLED"
    for function in snap.functions_of_kind("finder", "poller"):
        function.last_invocation = NOW - timedelta(minutes=38)
    return diagnose(snap)


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_prose_fits_the_width_and_a_command_stands_whole_on_its_own_line(broken: Report, width: int) -> None:
    lines = render(broken, "text", color=False, width=width).splitlines()
    assert [line for line in lines if len(line) > width and not is_command_line(line)] == []
    commands = [line for line in lines if FIX in line]
    assert commands and all(line.strip() == FIX or line == f"FIX: {FIX}" for line in commands)


def test_a_long_detail_continues_under_its_text_not_at_column_0(broken: Report) -> None:
    lines = render(broken, "text", color=False, width=60).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  [EVT001] "))
    assert lines[first + 1].startswith("    ") and lines[first + 1].strip()  # the hanging indent


def test_the_root_cause_and_its_fix_close_the_report(broken: Report) -> None:
    lines = render(broken, "text", color=False, width=80).splitlines()
    closing = lines[-7:]
    assert any(line.startswith("ROOT CAUSE [EVT001] rule drs-execution-finder-schedule") for line in closing)
    assert any(FIX in line for line in closing)
    assert lines.index("ROOT CAUSE") < lines.index("The fix plan, step by step")
    assert lines[-1].endswith("; root cause: EVT001")


def test_the_runbook_answers_one_line_a_step(broken: Report) -> None:
    lines = render(broken, "text", color=False, width=80).splitlines()
    start = lines.index("The fix plan, step by step")
    steps = lines[start + 1:lines.index("", start)]
    assert len(steps) == len(broken.plan) == 5
    assert steps[2].startswith("  ✖ 3. EventBridge polling: No: rule drs-execution-finder-schedule is")


def test_the_width_is_columns_then_the_terminal_then_100(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "72")
    assert terminal.width(io.StringIO()) == 72  # respected, even into a pipe
    monkeypatch.delenv("COLUMNS")
    assert terminal.width(io.StringIO()) == 100  # a file, a pipe, a ticket
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback=(0, 0): os.terminal_size((133, 50)))
    assert terminal.width(Terminal()) == 133
