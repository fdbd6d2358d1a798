"""The terminal report (rich): root cause first with its chain and fix, the operators' plan answered,
findings grouped by service with pass/warn/fail marks, one summary line at the end. Plain text (no
colour, no control codes) when not writing to a terminal."""

from __future__ import annotations

import io
import sys
from itertools import groupby

from rich.console import Console
from rich.text import Text

from drsdoctor.checkapi import ERROR, FAIL, PASS, SKIP, WARN, Finding
from drsdoctor.engine import Report
from drsdoctor.report.timeline import text_lines as timeline_lines

MARK = {PASS: ("✔", "green"), WARN: ("!", "yellow"), FAIL: ("✖", "bold red"), ERROR: ("?", "magenta"),
        SKIP: ("-", "dim")}
SERVICE_NAMES = {"states": "Step Functions", "iam": "IAM", "events": "EventBridge", "lambda": "Lambda",
                 "dynamodb": "DynamoDB", "drs": "Elastic Disaster Recovery",
                 "cloudformation": "CloudFormation"}
WIDTH = 110


def render(report: Report, color: bool | None = None, verbose: bool = False) -> str:
    if color is None:
        color = sys.stdout.isatty()
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=WIDTH, highlight=False,
                      emoji=False, soft_wrap=not color, color_system="standard" if color else None)
    console.print(Text(f"drsdoctor diagnosis of {report.target}", style="bold"))
    console.print()
    _root_cause(console, report)
    for line in timeline_lines(report.timeline):  # a few lines, under the root cause (report/timeline.py)
        console.print(Text(line, style="bold" if line.startswith("TIMELINE") else ""))
    if report.timeline is not None:
        console.print()
    _plan(console, report)
    _findings(console, report, verbose)
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    style = "bold red" if report.counts()[FAIL] else ("magenta" if report.counts()[ERROR] else "bold green")
    console.print(Text(report.summary_line(), style=style))
    return out.getvalue()


def _root_cause(console: Console, report: Report) -> None:
    root = report.root_cause
    if root is None:
        verdict = "No root cause: no check failed." if not report.counts()[ERROR] else (
            "No root cause found, but some checks could not tell (see ? below).")
        console.print(Text(verdict, style="bold green" if not report.counts()[ERROR] else "magenta"))
        console.print()
        return
    cause = root.finding
    console.print(Text("ROOT CAUSE", style="bold red"))
    console.print(Text.assemble(("  ", ""), (f"[{cause.check}] ", "bold"), (cause.detail, "")))
    console.print(Text(f"  on {cause.resource}", style="dim"))
    for finding in root.chain:
        console.print(Text.assemble(("    which explains ", "dim"), (f"[{finding.check}] ", "bold"),
                                    (f"({finding.layer}) ", "dim"), (finding.detail, "")))
    for line in cause.evidence[:5]:
        console.print(Text(f"  evidence: {line}", style="dim"))
    if cause.remediation:
        console.print(Text("  FIX:", style="bold green"))
        console.print(Text(f"    {cause.remediation}"))
        remedy = cause.remedy
        for note in (remedy.note, remedy.files_note()) if remedy else ():
            if note:
                console.print(Text(f"    ({note})", style="dim"))
    for other in root.also:
        console.print(Text.assemble(("  also failing: ", "yellow"), (f"[{other.check}] ", "bold"),
                                    (other.detail, "")))
    console.print()


def _plan(console: Console, report: Report) -> None:
    if not report.plan:
        return
    console.print(Text("The fix plan, step by step", style="bold"))
    for number, answer in enumerate(report.plan, 1):
        mark, style = MARK[answer.status]
        console.print(Text.assemble((f"  {number}. ", ""), (answer.question, "")))
        console.print(Text.assemble(("     ", ""), (f"{mark} ", style), (answer.answer, "")))
    console.print()


def _findings(console: Console, report: Report, verbose: bool) -> None:
    by_service = sorted(report.findings, key=lambda f: (f.service, f.check))
    for service, group in groupby(by_service, key=lambda f: f.service):
        console.print(Text(SERVICE_NAMES.get(service, service or "other"), style="bold underline"))
        for finding in group:
            _finding(console, finding, verbose)
        console.print()


def _finding(console: Console, finding: Finding, verbose: bool) -> None:
    mark, style = MARK[finding.status]
    console.print(Text.assemble(("  ", ""), (f"{mark} ", style), (f"{finding.check} ", "bold"),
                                (finding.detail or finding.title, "")))
    if finding.status in (FAIL, WARN, ERROR) or verbose:
        for line in finding.evidence[:5]:
            console.print(Text(f"      {line}", style="dim"))
    if finding.status in (FAIL, WARN) and finding.remediation:
        console.print(Text(f"      fix: {finding.remediation}", style="green"))
