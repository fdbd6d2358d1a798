"""A diff as one self-contained HTML page (diff-stacks --format html): the same changes as the Markdown,
highest risk first, and the IAM statements added or removed; every value escaped, secrets already masked
(diff/engine.py), no script and nothing to fetch (report/html.py's page)."""

from __future__ import annotations

from html import escape

from drsdoctor.diff.model import DiffResult
from drsdoctor.diff.render import MARKERS, _value, statement_rows, unread_notes
from drsdoctor.report.html import page, table

RISK_CLASS = {"high": "fail", "medium": "warn", "low": "skip"}


def render_html(result: DiffResult, long: bool = False) -> str:
    a, b = result.a, result.b
    parts = ["<h1>drsdoctor diff-stacks</h1>",
             f"<p><code>{escape(a.label)}</code> ({escape(a.kind)}) → <code>{escape(b.label)}</code> "
             f"({escape(b.kind)})</p>"]
    parts += [f"<p class=\"warn\">not read: {escape(note)}</p>" for note in unread_notes(result)]
    if result.identical:
        parts.append("<section class=\"verdict\"><p><strong>Identical: no differences that matter."
                     "</strong></p></section>")
        return page(f"diff-stacks {a.label} -> {b.label}", parts)
    counts = result.counts()
    parts.append(f"<section class=\"verdict bad\"><p><strong>{len(result.changes)} changes: {counts['high']} "
                 f"high, {counts['medium']} medium, {counts['low']} low</strong></p></section>")
    rows = [[escape(MARKERS[item.kind]), f"<span class=\"{RISK_CLASS[item.risk]}\">{item.risk}</span>",
             escape(item.category), f"<code>{escape(item.resource)}</code>",
             escape(item.summary) + (f" (drift on {escape(item.drift)})" if item.drift else ""),
             f"<code>{escape(_value(item.before, long, 120))}</code>",
             f"<code>{escape(_value(item.after, long, 120))}</code>"] for item in result.changes]
    parts += ["<h2>Changes</h2>",
              table(["", "Risk", "Category", "Resource", "Change", "Before", "After"], rows)]
    statements = statement_rows(result)
    if statements:
        parts += ["<h2>IAM statement changes</h2>", table(
            ["", "Role", "Effect", "Action", "Resource", "Condition"],
            [[escape(cell).replace("\n", "<br/>") for cell in row] for row in statements])]
    return page(f"diff-stacks {a.label} -> {b.label}", parts)
