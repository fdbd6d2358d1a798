"""The Markdown report: pastes into an incident ticket (root cause and fix first, then the plan, then all)."""

from __future__ import annotations

import re

from drsdoctor.checkapi import ERROR, FAIL, PASS, SKIP, WARN
from drsdoctor.engine import Report

MARK = {PASS: "✅ pass", WARN: "⚠️ warn", FAIL: "❌ fail", ERROR: "❓ error", SKIP: "➖ skip"}


def cell(text: str) -> str:
    """One table cell or list item: a pipe would end the cell, a line break the table."""
    return " ".join(text.replace("|", "\\|").splitlines())


def code(text: str) -> str:
    """Inline code that holds any text: fenced by more backticks than it contains (CommonMark)."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith(" ") or text.endswith(" ") else ""
    return f"{fence}{pad}{cell(text)}{pad}{fence}"


def block(text: str) -> list[str]:
    """A fenced code block that no line of ``text`` can close early."""
    longest = max((len(run) for run in re.findall("`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def render(report: Report) -> str:
    lines = [f"## drsdoctor: {code(report.target)}", ""]
    if report.collected_at:
        lines += [f"Collected at {report.collected_at.isoformat()}.", ""]
    root = report.root_cause
    if root is None:
        lines += ["**No root cause found**: no check failed.", ""]
    else:
        cause = root.finding
        lines += ["### Root cause", "", f"**{cause.check}** ({cause.layer}, {cause.severity}) on "
                  f"{code(cause.resource)}: {cell(cause.detail)}", ""]
        if root.chain:
            lines += ["Which explains:", ""]
            lines += [f"- **{f.check}** ({f.layer}): {cell(f.detail)}" for f in root.chain]
            lines.append("")
        if cause.remediation:
            lines += ["**Fix:**", "", *block(cause.remediation), ""]
        if cause.evidence:
            lines += ["Evidence:", ""] + [f"- {code(e)}" for e in cause.evidence] + [""]
        if root.also:
            lines += ["Also failing:", ""] + [f"- **{f.check}**: {cell(f.detail)}" for f in root.also] + [""]
    if report.plan:
        lines += ["### The fix plan, step by step", "", "| # | Question | Answer |", "|---|---|---|"]
        lines += [f"| {n} | {cell(a.question)} | {MARK[a.status]}: {cell(a.answer)} |"
                  for n, a in enumerate(report.plan, 1)]
        lines.append("")
    lines += ["### Findings", "", "| Status | Check | Resource | Detail |", "|---|---|---|---|"]
    order = {FAIL: 0, ERROR: 1, WARN: 2, PASS: 3, SKIP: 4}
    for finding in sorted(report.findings, key=lambda f: (order[f.status], f.check)):
        lines.append(f"| {MARK[finding.status]} | {cell(finding.check)} | {code(finding.resource)} | "
                     f"{cell(finding.detail)} |")
    lines += ["", f"**{report.summary_line()}**"]
    for note in report.notes:
        lines.append(f"> {cell(note)}")
    return "\n".join(lines) + "\n"
