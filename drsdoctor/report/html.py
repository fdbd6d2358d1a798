"""The HTML report: one self-contained file to attach to the incident ticket. The verdict, root cause, chain
and fix first; then the execution's timeline as inline SVG (report/timeline.py); then the runbook's
answers and the findings. No script, no font, no image, no link to fetch: inline CSS only, so it opens
the same offline, in a mail client or behind a proxy. Every text is escaped (a log line is data, never
markup); the report it draws was already made safe and scrubbed of secrets (report.render, engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING

from drsdoctor.checkapi import ERROR, FAIL, PASS, SKIP, WARN, Finding
from drsdoctor.report.timeline import Event, Lane, Timeline, clock

if TYPE_CHECKING:
    from drsdoctor.engine import Report
    from drsdoctor.report.fleet import Fleet

MARK = {PASS: "✔ pass", WARN: "! warn", FAIL: "✖ fail", ERROR: "? error", SKIP: "- skip"}
ORDER = {FAIL: 0, ERROR: 1, WARN: 2, PASS: 3, SKIP: 4}
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;
color:#1b1f24;padding:0 16px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #d0d7de}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px 10px;white-space:pre-wrap;word-break:break-all}
.meta{color:#57606a}.verdict{border-left:6px solid #2e7d32;padding:8px 14px;background:#f3faf3}
.verdict.bad{border-color:#c62828;background:#fdf3f3}.verdict.unknown{border-color:#8e24aa;background:#f8f2fa}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;
text-align:left}th{background:#f6f8fa}.fail{color:#c62828;font-weight:600}.warn{color:#b26a00}
.error{color:#8e24aa}.pass{color:#2e7d32}.skip{color:#57606a}ul{margin:4px 0}
svg text{font:11px system-ui,sans-serif;fill:#1b1f24}svg .small{font-size:10px;fill:#57606a}
svg .lanebg{fill:#f6f8fa}svg .title{font-weight:600}svg .axis{stroke:#d0d7de}
svg .span-ok{fill:#66bb6a}svg .span-failed{fill:#e53935}svg .span-running{fill:#fbc02d}
svg .span-{fill:#90a4ae}svg .execution{fill:#bbdefb}svg .execution.span-failed{fill:#ffcdd2}
svg .round{stroke:#1e88e5}svg .invoke{fill:#3949ab}svg .invoke.failed{fill:#e53935}
svg .error{fill:#e53935}svg .stop{stroke:#c62828;stroke-dasharray:5 3;stroke-width:2}
svg .now{stroke:#57606a;stroke-dasharray:2 3}svg .stoplabel{fill:#c62828;font-weight:600}
svg.timeline{max-width:100%;height:auto}
"""
LABEL = 230  # the lanes' names
LEFT, WIDTH = 240, 900  # where time is drawn
ROW, HEAD = 16, 30  # a row's height, a lane title's height
TICKS = 6
LEGEND = ("Bars: the execution, each DRS job and each server's snapshot, conversion and launch (green done, "
          "yellow running, red failed); blue ticks: the state machine's polling rounds; dots: invocations "
          "(a function's last log event included); diamonds: errors; red dashes: where progress stopped; "
          "grey dots: now. Hover for times and details.")


def render(report: Report) -> str:
    title = f"drsdoctor: {report.target}"
    collected = f" · collected {escape(report.collected_at.isoformat())}" if report.collected_at else ""
    parts = [f"<h1>drsdoctor diagnosis</h1><p class=\"meta\"><code>{escape(report.target)}</code>"
             f"{collected}</p>",
             verdict(report), timeline_section(report.timeline), plan(report), findings(report.findings)]
    parts += [f"<p class=\"meta\">note: {escape(note)}</p>" for note in report.notes]
    return page(title, parts)


def fleet_page(fleet: Fleet) -> str:
    """`diagnose --state-machine ARN --running`: the table of executions, then each one's verdict, timeline
    and the findings to act on."""
    parts = [f"<h1>drsdoctor: the {escape(fleet.selection)} executions</h1><p class=\"meta\">"
             f"<code>{escape(fleet.machine)}</code> · collected {escape(fleet.collected_at.isoformat())}</p>",
             f"<p><strong>{escape(fleet.summary_line())}</strong></p>"]
    if fleet.rows:
        cells = [[f"<a href=\"#run-{number}\">{escape(row.name)}</a>",
                  escape(row.started.isoformat() if row.started else ""), escape(row.status),
                  escape(row.state or ""), escape(row.wave or ""), str(row.exit_code), escape(row.cause)]
                 for number, row in enumerate(fleet.rows, 1)]
        parts.append(table(["Execution", "Started", "Status", "State", "Wave", "Exit", "Root cause"], cells))
    for number, row in enumerate(fleet.rows, 1):
        parts.append(f"<h2 id=\"run-{number}\">{escape(row.name)} <span class=\"meta\">{escape(row.status)}"
                     "</span></h2>")
        if row.report is None:
            parts.append(f"<p class=\"error\">{escape(row.cause)}</p>")
            continue
        acting = [f for f in row.report.findings if f.status in (FAIL, ERROR, WARN)]
        parts += [verdict(row.report), timeline_section(row.report.timeline), findings(acting)]
    parts += [f"<p class=\"meta\">note: {escape(note)}</p>" for note in fleet.notes]
    return page(f"drsdoctor: {fleet.machine}", parts)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A table of cells that are already HTML (each text in them escaped)."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title: str, parts: Iterable[str]) -> str:
    """One whole document: well-formed (every element closed), inline CSS, nothing to fetch."""
    body = "\n".join(part for part in parts if part)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
            f"<meta name=\"viewport\" content=\"width=device-width\"/><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


# ---- the verdict ---------------------------------------------------------------------------------

def verdict(report: Report) -> str:
    root = report.root_cause
    counts = report.counts()
    if root is None:
        kind = "unknown" if counts[ERROR] else ""
        words = "No root cause: no check failed."
        if counts[ERROR]:
            words = "No root cause found, but some checks could not tell (see the errors below)."

        return (f"<section class=\"verdict {kind}\"><p><strong>{escape(words)}</strong></p>"
                f"<p>{escape(report.summary_line())}</p></section>")
    cause = root.finding
    out = [f"<section class=\"verdict bad\"><p><strong>{escape(report.summary_line())}</strong></p>",
           "<h2>Root cause</h2>",
           f"<p><strong>[{escape(cause.check)}]</strong> {escape(cause.detail)}<br/>"
           f"<span class=\"meta\">on <code>{escape(cause.resource)}</code></span></p>"]
    if root.chain:
        out.append("<p>Which explains:</p><ul>" + "".join(
            f"<li><strong>[{escape(f.check)}]</strong> <span class=\"meta\">({escape(f.layer)})</span> "
            f"{escape(f.detail)}</li>" for f in root.chain) + "</ul>")
    if cause.evidence:
        out.append("<p>Evidence:</p><ul>" + "".join(f"<li><code>{escape(line)}</code></li>"
                                                     for line in cause.evidence[:8]) + "</ul>")
    if cause.remediation:
        out.append(f"<p><strong>Fix:</strong></p><pre>{escape(cause.remediation)}</pre>")
    if root.also:
        out.append("<p>Also failing:</p><ul>" + "".join(
            f"<li><strong>[{escape(f.check)}]</strong> {escape(f.detail)}</li>" for f in root.also) + "</ul>")
    out.append("</section>")
    return "".join(out)


def plan(report: Report) -> str:
    if not report.plan:
        return ""
    rows = "".join(f"<tr><td>{number}</td><td>{escape(answer.question)}</td>"
                   f"<td class=\"{answer.status}\">{escape(MARK[answer.status])}</td>"
                   f"<td>{escape(answer.answer)}</td></tr>" for number, answer in enumerate(report.plan, 1))
    return ("<h2>The fix plan, step by step</h2><table><tr><th>#</th><th>Question</th><th>Status</th>"
            f"<th>Answer</th></tr>{rows}</table>")


def findings(found: list[Finding]) -> str:
    ordered = sorted(found, key=lambda f: (ORDER[f.status], f.check))
    problems = [f for f in ordered if f.status in (FAIL, ERROR, WARN)]
    rest = [f for f in ordered if f.status not in (FAIL, ERROR, WARN)]
    head = "<tr><th>Status</th><th>Check</th><th>Resource</th><th>Detail</th></tr>"
    out = [f"<h2>Findings ({len(problems)} to act on, {len(rest)} passed or skipped)</h2>"]
    if problems:
        out.append(f"<table>{head}{''.join(_finding(f) for f in problems)}</table>")
    if rest:
        out.append(f"<details><summary>{len(rest)} passed or skipped</summary>"
                   f"<table>{head}{''.join(_finding(f) for f in rest)}</table></details>")
    return "".join(out)


def _finding(finding: Finding) -> str:
    extra = "".join(f"<br/><code>{escape(line)}</code>" for line in finding.evidence[:5])
    if finding.status in (FAIL, WARN) and finding.remediation:
        extra += f"<br/>fix: <code>{escape(finding.remediation)}</code>"
    return (f"<tr><td class=\"{finding.status}\">{escape(MARK[finding.status])}</td>"
            f"<td>{escape(finding.check)}</td><td><code>{escape(finding.resource)}</code></td>"
            f"<td>{escape(finding.detail or finding.title)}{extra}</td></tr>")


# ---- the timeline as SVG -------------------------------------------------------------------------

def timeline_section(timeline: Timeline | None) -> str:
    if timeline is None:
        return "<h2>Timeline</h2><p class=\"meta\">No time was read about this execution.</p>"
    stop = f"<p class=\"fail\">{escape(timeline.stop_label)}</p>" if timeline.stop_label else ""
    return (f"<h2>Timeline ({escape(clock(timeline.start))} to {escape(clock(timeline.now))} UTC, now)</h2>"
            f"{stop}{svg(timeline)}<p class=\"meta\">{LEGEND}</p>")


def svg(timeline: Timeline) -> str:
    end = timeline.end or timeline.now
    total = max((end - timeline.start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - timeline.start).total_seconds() / total * WIDTH, 1)

    out: list[str] = []
    y = 24
    for lane in timeline.lanes:
        y = _lane(out, lane, y, x)
    height = y + 26
    axis = []
    for tick in range(TICKS + 1):
        moment = timeline.start + (end - timeline.start) * tick / TICKS
        axis.append(f"<line class=\"axis\" x1=\"{x(moment)}\" y1=\"16\" x2=\"{x(moment)}\" y2=\"{y}\"/>"
                    f"<text class=\"small\" x=\"{x(moment)}\" y=\"12\" text-anchor=\"middle\">"
                    f"{clock(moment)}</text>")
    marks = [f"<line class=\"now\" x1=\"{x(timeline.now)}\" y1=\"16\" x2=\"{x(timeline.now)}\" y2=\"{y}\">"
             f"<title>now: {clock(timeline.now)} UTC (when the facts were collected)</title></line>"]
    if timeline.stop is not None:
        at = x(timeline.stop)
        marks.append(f"<g class=\"stopmark\"><line class=\"stop\" x1=\"{at}\" y1=\"16\" x2=\"{at}\" "
                     f"y2=\"{y + 4}\"><title>{escape(timeline.stop_label)}</title></line>"
                     f"<text class=\"stoplabel\" x=\"{min(at, LEFT + WIDTH - 160)}\" y=\"{y + 18}\">"
                     f"progress stopped {clock(timeline.stop)}</text></g>")
    return (f"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{LEFT + WIDTH + 20}\" "
            f"height=\"{height}\" viewBox=\"0 0 {LEFT + WIDTH + 20} {height}\" class=\"timeline\">"
            f"<title>the execution's timeline</title>{''.join(axis)}{''.join(out)}{''.join(marks)}</svg>")


def _lane(out: list[str], lane: Lane, y: int, x: Callable[[datetime], float]) -> int:
    height = HEAD + ROW * len(lane.rows) + 4
    title, status = escape(_cut(lane.title, 30)), escape(lane.status)
    out.append(f"<g class=\"lane lane-{escape(lane.kind)}\" data-title=\"{escape(lane.title)}\">"
               f"<rect class=\"lanebg\" x=\"0\" y=\"{y}\" width=\"{LEFT + WIDTH + 20}\" "
               f"height=\"{height - 4}\"/><text class=\"title\" x=\"6\" y=\"{y + 13}\">{title} "
               f"<tspan class=\"small\">{status}</tspan><title>{escape(lane.title)}</title></text>"
               f"<text class=\"small\" x=\"{LEFT}\" y=\"{y + 13}\">{escape(_cut(lane.note, 150))}"
               f"<title>{escape(lane.note)}</title></text>")
    row_y = y + HEAD - 8
    for row in lane.rows:
        out.append(f"<text class=\"small\" x=\"14\" y=\"{row_y + 11}\">{escape(_cut(row.label, 34))}</text>")
        out.extend(_event(event, row_y, x) for event in row.events)
        row_y += ROW
    out.append("</g>")
    return y + height


def _event(event: Event, y: int, x: Callable[[datetime], float]) -> str:
    tip = f"<title>{escape(event.label)} at {clock(event.at)} UTC" + (
        f" to {clock(event.end)}" if event.end else "") + "</title>"
    if event.end is not None:
        width = max(x(event.end) - x(event.at), 2)
        kind = "execution " if event.kind == "execution" else ""
        return (f"<rect class=\"{kind}span-{escape(event.status)}\" x=\"{x(event.at)}\" y=\"{y + 2}\" "
                f"width=\"{round(width, 1)}\" height=\"{ROW - 4}\" rx=\"2\">{tip}</rect>")
    if event.kind == "round":
        return (f"<line class=\"round\" x1=\"{x(event.at)}\" y1=\"{y + 1}\" x2=\"{x(event.at)}\" "
                f"y2=\"{y + ROW - 1}\">{tip}</line>")
    if event.kind == "error" or event.status == "failed":
        cx, cy = x(event.at), y + ROW / 2
        return (f"<path class=\"error\" d=\"M{cx} {cy - 6}L{cx + 5} {cy}L{cx} {cy + 6}L{cx - 5} {cy}Z\">"
                f"{tip}</path>")
    return f"<circle class=\"invoke\" cx=\"{x(event.at)}\" cy=\"{y + ROW / 2}\" r=\"4\">{tip}</circle>"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
