"""The Markdown report: pastes into an incident ticket (root cause and fix first, then the plan, then all)."""

from __future__ import annotations

from drsdoctor.checkapi import ERROR, FAIL, PASS, SKIP, WARN
from drsdoctor.engine import Report

MARK = {PASS: "✅ pass", WARN: "⚠️ warn", FAIL: "❌ fail", ERROR: "❓ error", SKIP: "➖ skip"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report) -> str:
    lines = [f"## drsdoctor: `{report.target}`", ""]
    if report.collected_at:
        lines += [f"Collected at {report.collected_at.isoformat()}.", ""]
    root = report.root_cause
    if root is None:
        lines += ["**No root cause found**: no check failed.", ""]
    else:
        cause = root.finding
        lines += ["### Root cause", "", f"**{cause.check}** ({cause.layer}, {cause.severity}) on "
                  f"`{cause.resource}`: {cause.detail}", ""]
        if root.chain:
            lines += ["Which explains:", ""]
            lines += [f"- **{f.check}** ({f.layer}): {f.detail}" for f in root.chain]
            lines.append("")
        if cause.remediation:
            lines += ["**Fix:**", "", "```", cause.remediation, "```", ""]
        if cause.evidence:
            lines += ["Evidence:", ""] + [f"- `{_cell(e)}`" for e in cause.evidence] + [""]
        if root.also:
            lines += ["Also failing:", ""] + [f"- **{f.check}**: {f.detail}" for f in root.also] + [""]
    if report.plan:
        lines += ["### The fix plan, step by step", "", "| # | Question | Answer |", "|---|---|---|"]
        lines += [f"| {n} | {_cell(a.question)} | {MARK[a.status]}: {_cell(a.answer)} |"
                  for n, a in enumerate(report.plan, 1)]
        lines.append("")
    lines += ["### Findings", "", "| Status | Check | Resource | Detail |", "|---|---|---|---|"]
    order = {FAIL: 0, ERROR: 1, WARN: 2, PASS: 3, SKIP: 4}
    for finding in sorted(report.findings, key=lambda f: (order[f.status], f.check)):
        lines.append(f"| {MARK[finding.status]} | {finding.check} | `{_cell(finding.resource)}` | "
                     f"{_cell(finding.detail)} |")
    lines += ["", f"**{report.summary_line()}**"]
    for note in report.notes:
        lines.append(f"> {note}")
    return "\n".join(lines) + "\n"
