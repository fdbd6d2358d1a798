"""The terminal report: what an operator reads at 3 a.m., on one screen.

Root cause first, with its chain, evidence and fix; the operators' fix plan answered one line a step; the
findings that failed, warned or could not tell; the root cause and its fix again at the very end, so they
are on screen when the command returns. `long` (diagnose --long, -v) adds every finding, grouped by
service, and lifts the one-line limits. Lines are wrapped to the terminal's width with a hanging indent; a
command is never wrapped (drsdoctor.report.layout). Plain text unless colour is wanted
(drsdoctor.report.terminal).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from drsdoctor.checkapi import ERROR, FAIL, PASS, SKIP, WARN, Finding
from drsdoctor.engine import PlanAnswer, Report, RootCause
from drsdoctor.report import terminal
from drsdoctor.report.layout import Lines, is_command
from drsdoctor.report.timeline import text_lines

MARK = {PASS: ("✔", "green"), WARN: ("!", "yellow"), FAIL: ("✖", "bold red"), ERROR: ("?", "magenta"),
        SKIP: ("-", "dim")}
SERVICE_NAMES = {"states": "Step Functions", "iam": "IAM", "events": "EventBridge", "lambda": "Lambda",
                 "dynamodb": "DynamoDB", "drs": "Elastic Disaster Recovery",
                 "cloudformation": "CloudFormation"}
# The fix plan's steps in a few words, so each answer fits one line (the questions are in --long and JSON).
STEP_NAMES = {"transitions": "Step Functions moving", "drs-permissions": "DRS permissions",
              "eventbridge": "EventBridge polling", "environment": "environment variables",
              "definition": "definition"}
SHORT = {"chain": 3, "evidence": 3, "evidence_lines": 2, "finding": 2, "closing": 2}  # lines, by default
SCREEN = 50  # the default report fits one screen of this many lines for a typical fault...
ROOM = 5  # ...with this many left for the timeline under the root cause


def render(report: Report, color: bool | None = None, verbose: bool = False, long: bool = False,
           width: int | None = None) -> str:
    """The report as the terminal shows it; `color` and `width` default to what stdout allows."""
    width = width or terminal.width()
    color = terminal.color_wanted() if color is None else color
    long = long or verbose
    text = _render(report, Lines(width, color), long, compact=False)
    # room for the timeline while there is none; a line or two to spare for longer names when there is one
    budget = SCREEN - 2 if timeline_lines(report, width) else SCREEN - ROOM
    if not long and text.count("\n") > budget:  # the chain and findings shorter, to keep one screen
        text = _render(report, Lines(width, color), long, compact=True)
    return text


def _render(report: Report, out: Lines, long: bool, compact: bool) -> str:
    _header(out, report)
    _root_cause(out, report, long, compact)
    _plan(out, report, long)
    if long:
        _every_finding(out, report)
    else:
        _failing_findings(out, report, compact)
    for note in report.notes:
        out.para([("note: ", "dim")], note, "dim", hang=6)
    _closing(out, report)
    return out.text()


def timeline_lines(report: Report, width: int) -> list[str]:
    """The compact timeline printed under the root cause (report/timeline.py: at most five lines)."""
    return text_lines(report.timeline)


def _header(out: Lines, report: Report) -> None:
    out.para([("drsdoctor diagnosis of ", "bold")], report.target, "bold", hang=2)
    out.blank()


def _root_cause(out: Lines, report: Report, long: bool, compact: bool = False) -> None:
    root = report.root_cause
    if root is None:
        errored = report.counts()[ERROR]
        out.para([], "No root cause found, but some checks could not tell (see ? below)." if errored else
                 "No root cause: no check failed.", "magenta" if errored else "bold green", hang=2)
        out.blank()
        return
    cause = root.finding
    cap = None if long else SHORT["chain"] - compact
    out.line(("ROOT CAUSE", "bold red"))
    out.para([(f"[{cause.check}] ", "bold")], cause.detail, indent=2, hang=4)
    out.para([("on ", "dim")], cause.resource, "dim", indent=2, hang=4)
    for finding in root.chain:
        head = [("which explains ", "dim"), (f"[{finding.check}] ", "bold"), (f"({finding.layer}) ", "dim")]
        out.para(head, finding.detail, indent=2, hang=4, max_lines=cap)
    _evidence(out, cause.evidence, long, compact)
    if cause.remediation:
        out.line(("  FIX:", "bold green"))
        _fix(out, cause, indent=4, style="bold", max_lines=None if long else 2 - compact)
    for other in root.also:
        out.para([("also failing: ", "yellow"), (f"[{other.check}] ", "bold")], other.detail, indent=2,
                 hang=4, max_lines=None if long else 2)
    out.blank()
    _timeline(out, report, long)


def _timeline(out: Lines, report: Report, long: bool) -> None:
    """The execution in time, a line a part: the heading, then each line cut to the width (whole in long)."""
    lines = timeline_lines(report, out.width)
    for number, line in enumerate(lines):
        body, heading = line.lstrip(), line.startswith("TIMELINE")
        indent = len(line) - len(body)
        if long or heading:
            out.para([], body, "bold" if heading else "", indent=indent, hang=indent + 2)
        elif number == len(lines) - 1:  # where progress stopped, and how long ago: never cut
            out.para([], body, indent=indent, hang=indent + 2, max_lines=2)
        else:
            out.one_line([], body, indent=indent)
    if lines:
        out.blank()


def _fix(out: Lines, finding: Finding, indent: int, style: str = "", max_lines: int | None = None,
         notes: bool = True) -> None:
    """A finding's fix: each command on its own line, whole, then (`notes`) what the commands read and do."""
    remedy = finding.remedy
    if remedy is None:
        out.fix(finding.remediation, indent=indent, style=style, max_lines=max_lines)
        return
    for command in remedy.commands:
        out.command(command.line, indent, style)
    for note in (remedy.note, remedy.files_note()) if notes else ():
        if note:
            out.para([], f"({note})", "dim", indent=indent, max_lines=max_lines)


def _evidence(out: Lines, evidence: Sequence[str], long: bool, compact: bool = False) -> None:
    """Each line of evidence once (a log line logged 20 times is one line, counted)."""
    counted = {line: evidence.count(line) for line in evidence}
    shown = list(counted.items())[:5 if long else SHORT["evidence"]]
    for line, times in shown:
        again = f" (×{times})" if times > 1 else ""
        out.para([("evidence: ", "dim")], line + again, "dim", indent=2, hang=4,
                 max_lines=None if long else SHORT["evidence_lines"] - compact)


def _plan(out: Lines, report: Report, long: bool) -> None:
    if not report.plan:
        return
    out.line(("The fix plan, step by step", "bold"))
    for number, answer in enumerate(report.plan, 1):
        mark, style = MARK[answer.status]
        if long:
            out.para([(f"{number}. ", "")], answer.question, indent=2)
            out.para([(f"{mark} ", style)], answer.answer, indent=5)
        else:
            out.one_line([(f"{mark} ", style), (f"{number}. {_step_name(answer)}: ", "bold")], answer.answer,
                         indent=2)
    out.blank()


def _step_name(answer: PlanAnswer) -> str:
    return STEP_NAMES.get(answer.step) or answer.question.rstrip("?")


def _failing_findings(out: Lines, report: Report, compact: bool) -> None:
    """The findings that failed, warned or could not tell; those of the root cause's chain are named only
    (they are printed in full above); the same unread fact is said once for all the checks it kept blind."""
    shown_above = _in_root_cause(report)
    failing = [f for f in report.findings if f.status in (FAIL, WARN, ERROR)]
    total = len(report.findings)
    if not failing:
        out.para([], f"Findings: all {total} passed or were skipped (--long lists them)", "bold", hang=2)
        out.blank()
        return
    out.para([], f"Findings that failed, warned or could not tell: {len(failing)} of {total} "
                 "(--long lists all)", "bold", hang=2)
    # by value: report.render hands over a safe copy of the report, whose chain holds copies too
    above = [f for f in failing if f in shown_above]
    if above:
        named = ", ".join(f"{MARK[f.status][0]} {f.check}" for f in _once(above))
        out.para([("  shown above: ", "dim")], named, "dim", hang=4)
    rest = [f for f in failing if f not in shown_above]
    for _same, group in groupby(sorted(rest, key=_order), key=lambda f: (f.status, f.detail)):
        same = list(group)
        _finding(out, same, long=False, compact=compact, root=report.root_cause)
    out.blank()


def _order(finding: Finding) -> tuple[int, str, str]:
    return ((FAIL, WARN, ERROR).index(finding.status), finding.detail, finding.check)


def _once(findings: list[Finding]) -> list[Finding]:
    return list({f.check: f for f in reversed(findings)}.values())[::-1]


def _in_root_cause(report: Report) -> list[Finding]:
    root = report.root_cause
    return [] if root is None else [root.finding, *root.chain, *root.also]


def _every_finding(out: Lines, report: Report) -> None:
    by_service = sorted(report.findings, key=lambda f: (f.service, f.check))
    for service, group in groupby(by_service, key=lambda f: f.service):
        out.line((SERVICE_NAMES.get(service, service or "other"), "bold underline"))
        for finding in group:
            _finding(out, [finding], long=True)
        out.blank()


def _finding(out: Lines, same: list[Finding], long: bool, compact: bool = False,
             root: RootCause | None = None) -> None:
    """One finding (or several checks that said the same thing): its mark, id and detail; for a problem,
    its evidence (in --long) and its fix. `compact`: the detail on one line."""
    finding = same[0]
    mark, style = MARK[finding.status]
    ids = ", ".join(dict.fromkeys(f.check for f in same))
    head = [("  ", ""), (f"{mark} ", style), (f"{ids} ", "bold")]
    if compact:
        out.one_line(head, finding.detail or finding.title)
    else:
        out.para(head, finding.detail or finding.title, hang=4 + len(ids) if len(ids) < 10 else 6,
                 max_lines=None if long else SHORT["finding"])
    if long and finding.status in (FAIL, WARN, ERROR):
        for line in [line for line in dict.fromkeys(finding.evidence) if line not in finding.detail][:5]:
            out.para([], line, "dim", indent=6)
    if finding.status in (FAIL, WARN) and finding.remediation:
        if root is not None and finding.remediation == root.finding.remediation:
            out.line(("      fix: ", "green"), ("the root cause's, above", "dim"))
        elif finding.remedy is not None or is_command(finding.remediation.splitlines()[0]):
            out.line(("      fix:", "green"))
            _fix(out, finding, indent=8, style="green", notes=long)
        else:
            out.para([("fix: ", "green")], finding.remediation, "green", indent=6,
                     max_lines=None if long else (1 if compact else 2))


def _closing(out: Lines, report: Report) -> None:
    """The root cause and its fix again, short, then the summary: what is on screen when the command
    returns."""
    root = report.root_cause
    if root is not None:
        out.line(("─" * min(out.width, 80), "dim"))
        cause = root.finding
        out.para([("ROOT CAUSE ", "bold red"), (f"[{cause.check}] ", "bold")], cause.detail, hang=2,
                 max_lines=SHORT["closing"])
        if cause.remediation:
            commands = [c.line for c in cause.remedy.commands] if cause.remedy else \
                cause.remediation.strip().splitlines()
            if len(commands) == 1 and is_command(commands[0]) and len("FIX: " + commands[0]) <= out.width:
                out.line(("FIX: ", "bold green"), (commands[0], "bold"))
            else:
                out.line(("FIX:", "bold green"))
                _fix(out, cause, indent=2, style="bold", notes=False)
    counts = report.counts()
    style = "bold red" if counts[FAIL] else ("magenta" if counts[ERROR] else "bold green")
    if report.collected_at is not None:  # the one "now" of every time and "ago" in the report
        moment = report.collected_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        out.para([], f"facts read at {moment}; every 'ago' above counts from then", "dim", hang=2)
    summary = report.summary_line()
    if len(summary) > out.width:  # the counts that are not zero, so it stays one line
        shown = [f"{n} {word}" for n, word in ((counts[FAIL], "failed"), (counts[WARN], "warned"),
                                                (counts[ERROR], "errored"), (counts[PASS], "passed"),
                                                (counts[SKIP], "skipped")) if n]
        summary = f"{len(report.findings)} findings: {', '.join(shown)}; " + summary.rsplit("; ", 1)[-1]
    out.para([], summary, style, hang=2)
