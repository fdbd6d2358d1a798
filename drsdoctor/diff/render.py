"""A diff as text (rain-style markers, a cdk-style IAM table), JSON (drsdoctor.diff/1) and markdown."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterable
from typing import Any

from drsdoctor.diff.inner import lines as inner_lines
from drsdoctor.diff.inner import text_of
from drsdoctor.diff.model import Change, DiffResult

MARKERS = {"added": "+", "removed": "-", "modified": "~"}
STYLES = {"added": "green", "removed": "red", "modified": "yellow"}
RISK_STYLES = {"high": "bold red", "medium": "yellow", "low": "dim"}


def to_json(result: DiffResult) -> str:
    return json.dumps(result.to_json(), indent=2, sort_keys=False, default=str)


def _value(value: Any, long: bool, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if long or len(text) <= limit else text[: limit - 3] + "..."


def _long_pair(item: Change, limit: int = 70) -> bool:
    if item.kind != "modified" or item.before is None or item.after is None:
        return False
    return len(text_of(item.before)) > limit or len(text_of(item.after)) > limit


def _by_resource(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    """Resources in the order of their worst change (changes are already sorted by risk)."""
    groups: dict[str, list[Change]] = {}
    for item in changes:
        groups.setdefault(item.resource, []).append(item)
    return list(groups.items())


def statement_rows(result: DiffResult) -> list[tuple[str, str, str, str, str, str]]:
    """(marker, role, effect, actions, resources, condition) for each IAM statement added or removed."""
    rows = []
    for item in result.changes:
        if item.category != "iam" or not item.path.endswith(".Statement"):
            continue
        statement = item.after if item.kind == "added" else item.before
        if not isinstance(statement, dict):
            continue
        actions = statement.get("Action", statement.get("NotAction", ""))
        resources = statement.get("Resource", statement.get("NotResource", ""))
        rows.append(
            (
                MARKERS[item.kind],
                item.resource,
                str(statement.get("Effect", "")),
                "\n".join(actions) if isinstance(actions, list) else str(actions),
                "\n".join(resources) if isinstance(resources, list) else str(resources),
                json.dumps(statement["Condition"], sort_keys=True) if statement.get("Condition") else "",
            )
        )
    return rows


def render_text(result: DiffResult, long: bool = False, color: bool = False, width: int | None = None) -> str:
    """Rain-style: one block per resource, + added, - removed, ~ changed; equal parts hidden unless long."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    buffer = io.StringIO()
    if width is None:  # a terminal's own width; files and pipes get a fixed one
        width = shutil.get_terminal_size((110, 24)).columns if color else 110
    console = Console(
        file=buffer,
        force_terminal=color,
        color_system="standard" if color else None,
        width=width,
        highlight=False,
        soft_wrap=not color,
    )
    a, b = result.a, result.b
    console.print(f"[bold]diff-stacks[/bold] {escape(a.label)} ({a.kind}) -> {escape(b.label)} ({b.kind})")
    for note in unread_notes(result):
        console.print(f"[yellow]not read[/yellow] {escape(note)}")
    if result.identical:
        console.print("[green]identical[/green]: no differences that matter")
        return buffer.getvalue()
    counts = result.counts()
    console.print(
        f"{len(result.changes)} changes: {counts['high']} high, {counts['medium']} medium, "
        f"{counts['low']} low"
    )
    for resource, changes in _by_resource(result.changes):
        console.print()
        console.print(f"[bold]{escape(resource)}[/bold] [dim]({escape(changes[0].type)})[/dim]")
        for item in changes:
            marker = MARKERS[item.kind]
            drift = f" [magenta](drift on {item.drift})[/magenta]" if item.drift else ""
            console.print(
                f"  [{STYLES[item.kind]}]{marker}[/{STYLES[item.kind]}] "
                f"[{RISK_STYLES[item.risk]}]{item.risk:<6}[/{RISK_STYLES[item.risk]}] "
                f"{escape(item.summary)}{drift}"
            )
            if long:
                if item.before is not None:
                    console.print(f"      [red]- {escape(_value(item.before, long))}[/red]")
                if item.after is not None:
                    console.print(f"      [green]+ {escape(_value(item.after, long))}[/green]")
            elif _long_pair(item):
                # the smallest inner differences, not the first characters of each side; one of them
                # is already the summary
                found = inner_lines(item.before, item.after)
                for line in found if len(found) > 1 else []:
                    console.print(f"      {escape(line)}")
    if long:
        changed = {c.resource for c in result.changes}
        same = sorted(set(a.resources) & set(b.resources) - changed)
        if same:
            console.print()
            console.print(f"[dim]= unchanged: {escape(', '.join(same))}[/dim]")
    rows = statement_rows(result)
    if rows:
        console.print()
        # box-drawing characters are for terminals; files and pipes get plain ASCII
        table = Table(
            title="IAM statement changes",
            title_justify="left",
            show_lines=True,
            box=box.HEAVY_HEAD if color else box.ASCII,
        )
        for column in ("", "Role", "Effect", "Action", "Resource", "Condition"):
            table.add_column(column)
        for marker, *cells in rows:
            style = "green" if marker == "+" else "red"
            table.add_row(marker, *(escape(c) for c in cells), style=style)
        console.print(table)
    return buffer.getvalue()


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def unread_notes(result: DiffResult) -> list[str]:
    """Each side's resources whose live configuration the comparison lacks, and why: never silent."""
    return [f"{side.label}: {note}" for side in (result.a, result.b) for note in side.unread]


def render_markdown(result: DiffResult, long: bool = False) -> str:
    a, b = result.a, result.b
    lines = [f"# diff-stacks: `{a.label}` -> `{b.label}`", ""]
    lines += [f"> not read: {_cell(note)}" for note in unread_notes(result)]
    if unread_notes(result):
        lines.append("")
    if result.identical:
        return "\n".join([*lines, "Identical: no differences that matter.", ""])
    counts = result.counts()
    lines += [
        f"{len(result.changes)} changes: **{counts['high']} high**, {counts['medium']} medium, "
        f"{counts['low']} low.",
        "",
        "| | Risk | Category | Resource | Change | Before | After |",
        "|---|---|---|---|---|---|---|",
    ]
    for item in result.changes:
        drift = f" (drift on {item.drift})" if item.drift else ""
        lines.append(
            f"| {MARKERS[item.kind]} | {item.risk} | {item.category} | `{_cell(item.resource)}` | "
            f"{_cell(item.summary)}{drift} | {_cell(_value(item.before, long, 60))} | "
            f"{_cell(_value(item.after, long, 60))} |"
        )
    rows = statement_rows(result)
    if rows:
        lines += [
            "",
            "## IAM statement changes",
            "",
            "| | Role | Effect | Action | Resource | Condition |",
            "|---|---|---|---|---|---|",
        ]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
