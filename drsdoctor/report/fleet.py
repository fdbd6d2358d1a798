"""Many executions of one state machine, one row each (`diagnose --state-machine ARN --running`): the table
(text, rich), `drsdoctor.fleet/1` JSON and Markdown. A row keeps the execution's Report, never its facts."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drsdoctor import exitcodes

if TYPE_CHECKING:
    from drsdoctor.engine import Report
    from drsdoctor.snapshot import Snapshot

SCHEMA = "drsdoctor.fleet/1"
FORMATS = ("text", "json", "markdown", "html")
CAUSE_WIDTH = 120  # one line of the root cause in a row; the whole of it is in the JSON report
WIDTH = 220  # not on a terminal (a file, a ticket): wide enough that a row stays one line
VERDICT = {exitcodes.OK: "healthy", exitcodes.PROBLEMS: "problems", exitcodes.INCOMPLETE: "incomplete"}


@dataclass
class FleetRow:
    """One execution: where it is, and its diagnosis (None when it could not be collected at all)."""

    arn: str
    name: str
    status: str
    started: datetime | None = None
    state: str | None = None  # the state it last entered
    wave: str | None = None  # "2/3 POLLING": its current wave by the execution record
    report: Report | None = None
    error: str | None = None  # why it could not be diagnosed
    missing: list[str] = field(default_factory=list)  # facts the --timeout budget kept from it

    @classmethod
    def of(cls, snap: Snapshot, report: Report, missing: list[str]) -> FleetRow:
        execution, record = snap.execution, snap.execution_record
        entered = next((e.state_name for e in (snap.history.events if snap.history else [])
                        if e.type.endswith("StateEntered") and e.state_name), None)
        wave = record.current_wave() if record else None
        where = (f"{record.waves.index(wave) + 1}/{len(record.waves)} {wave.status}" if record and wave
                 else None)
        return cls(arn=snap.target, name=execution.name if execution else snap.target.rsplit(":", 1)[-1],
                   status=execution.status if execution else "?",
                   started=execution.start_date if execution else None, state=entered, wave=where,
                   report=report, missing=missing)

    @property
    def exit_code(self) -> int:
        """The execution's own exit code, as `diagnose EXECUTION_ARN` would end."""
        if self.report is None or self.missing:
            return exitcodes.INCOMPLETE
        return self.report.exit_code

    @property
    def cause(self) -> str:
        """The root cause on one line: check id and what it found; or why there is none."""
        if self.error:
            return f"not diagnosed: {self.error}"
        root = self.report.root_cause if self.report else None
        if root is not None:
            return _line(f"{root.finding.check}: {root.summary}")
        if self.missing:
            return "incomplete: the --timeout budget ran out (" + ", ".join(self.missing) + ")"
        return "incomplete: some checks could not tell" if self.exit_code else "none: no check failed"


@dataclass
class Fleet:
    machine: str
    selection: str  # in words: "running"
    collected_at: datetime
    rows: list[FleetRow] = field(default_factory=list)
    more: bool = False  # more executions matched than were listed
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The rule of one report over all rows: a problem found anywhere outranks a fact not read; but a
        run the --timeout budget cut short is incomplete (exit 3), as `diagnose EXECUTION_ARN` is."""
        if any(row.missing for row in self.rows):
            return exitcodes.INCOMPLETE
        codes = {row.exit_code for row in self.rows}
        for code in (exitcodes.PROBLEMS, exitcodes.INCOMPLETE):
            if code in codes:
                return code
        return exitcodes.OK

    def counts(self) -> dict[str, int]:
        found = Counter(VERDICT[row.exit_code] for row in self.rows)
        return {verdict: found[verdict] for verdict in VERDICT.values()}

    def root_causes(self) -> dict[str, int]:
        found = Counter(row.report.root_cause.finding.check for row in self.rows
                        if row.report and row.report.root_cause)
        return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))

    def summary_line(self) -> str:
        if not self.rows:
            return f"no {self.selection} execution of {self.machine}"
        counts = self.counts()
        causes = ", ".join(f"{check} x{count}" for check, count in self.root_causes().items())
        words = {"problems": "with problems"}
        return (f"{len(self.rows)} {self.selection} executions: " + ", ".join(
            f"{count} {words.get(verdict, verdict)}" for verdict, count in counts.items())
            + (f"; root causes: {causes}" if causes else ""))


def _line(text: str, width: int = CAUSE_WIDTH) -> str:
    first = " ".join(text.split())
    return first if len(first) <= width else first[:width - 3] + "..."


def _age(row: FleetRow, now: datetime) -> str:
    if row.started is None:
        return ""
    minutes = max(0, int((now - row.started).total_seconds() // 60))
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def render(fleet: Fleet, fmt: str = "text", color: bool | None = None) -> str:
    from drsdoctor.textsafe import deep

    fleet = deep(fleet)  # what AWS or a check said: no escape sequence reaches the reader
    if fmt == "json":
        return json.dumps(fleet_dict(fleet), indent=2)
    if fmt == "markdown":
        return markdown(fleet)
    if fmt == "html":
        from drsdoctor.report.html import fleet_page

        return fleet_page(fleet)
    return text(fleet, color)


def text(fleet: Fleet, color: bool | None = None) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if color is None:
        from drsdoctor.report.terminal import color_wanted

        color = color_wanted()
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=_width(color),
                      highlight=False, emoji=False, color_system="standard" if color else None)
    console.print(Text(f"drsdoctor diagnosis of the {fleet.selection} executions of {fleet.machine}",
                       style="bold"))
    if fleet.rows:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for column in ("execution", "started", "status / age", "state", "wave", "exit", "root cause"):
            table.add_column(column, overflow="fold")
        styles = {exitcodes.OK: "green", exitcodes.PROBLEMS: "bold red", exitcodes.INCOMPLETE: "magenta"}
        for row in fleet.rows:
            started = row.started.strftime("%Y-%m-%d %H:%M") if row.started else ""
            style = styles[row.exit_code]
            table.add_row(row.name, started, f"{row.status} {_age(row, fleet.collected_at)}".strip(),
                          row.state or "", row.wave or "", Text(str(row.exit_code), style=style),
                          Text(row.cause, style=style))
        console.print(table)
    for note in fleet.notes:
        console.print(Text(f"note: {note}", style="dim"))
    console.print(Text(fleet.summary_line(), style="bold"))
    return out.getvalue() if color else "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def _width(color: bool) -> int:
    """The terminal's width when writing to one (the report is built in memory first); else WIDTH."""
    import shutil

    return shutil.get_terminal_size((WIDTH, 24)).columns if color else WIDTH


def fleet_dict(fleet: Fleet) -> dict[str, Any]:
    """`drsdoctor.fleet/1`: each execution's row, with its whole `drsdoctor.report/1` report."""
    from drsdoctor.report.json_report import report_dict

    return {
        "schema": SCHEMA,
        "state_machine": fleet.machine,
        "selection": fleet.selection,
        "collected_at": fleet.collected_at.isoformat(),
        "executions": [{
            "execution": row.arn, "name": row.name, "status": row.status,
            "started": row.started.isoformat() if row.started else None,
            "age_seconds": int((fleet.collected_at - row.started).total_seconds()) if row.started else None,
            "state": row.state, "wave": row.wave, "exit_code": row.exit_code,
            "root_cause": None if not (row.report and row.report.root_cause) else {
                "check": row.report.root_cause.finding.check, "summary": row.report.root_cause.summary},
            "error": row.error, "missing": row.missing,
            "report": report_dict(row.report) if row.report else None,
        } for row in fleet.rows],
        "more": fleet.more,
        "summary": {"executions": len(fleet.rows), **fleet.counts(), "root_causes": fleet.root_causes(),
                    "text": fleet.summary_line(), "exit_code": fleet.exit_code},
        "notes": list(fleet.notes),
    }


def markdown(fleet: Fleet) -> str:
    from drsdoctor.report.markdown import cell, code

    lines = [f"## drsdoctor: {fleet.selection} executions of {code(fleet.machine)}", "",
             f"Collected at {fleet.collected_at.isoformat()}.", ""]
    if fleet.rows:
        lines += ["| Execution | Started | Status | State | Wave | Exit | Root cause |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {code(row.name)} | {row.started.isoformat() if row.started else ''} | "
                  f"{row.status} {_age(row, fleet.collected_at)} | {cell(row.state or '')} | "
                  f"{cell(row.wave or '')} | {row.exit_code} | {cell(row.cause)} |" for row in fleet.rows]
        lines.append("")
    lines.append(f"**{fleet.summary_line()}**")
    lines += [f"> {cell(note)}" for note in fleet.notes]
    return "\n".join(lines) + "\n"
