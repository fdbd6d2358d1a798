"""The execution as a timeline: one lane for the state machine, one per wave (its DRS job, each server's
launch phases), one per function by its role in the design (its invocations and errors), and where
progress stopped. Built once from the Snapshot, with every time on the report's one clock (when the facts
were collected), then drawn as SVG (report/html.py) or as a few lines of text (`text_lines`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from drsdoctor.snapshot import DrsJob, Function, HistoryEvent, JobLogItem, Snapshot, WaveRecord

# DRS job log events that open and close a server's launch phase (DescribeJobLogItems)
PHASES = (("snapshot", "SNAPSHOT_START", ("SNAPSHOT_END",)),
          ("conversion", "CONVERSION_START", ("CONVERSION_END",)),
          ("launch", "LAUNCH_START", ("LAUNCH_END", "LAUNCH_FAILED")))
FAILED_EVENTS = {"SNAPSHOT_FAILED", "CONVERSION_FAILED", "LAUNCH_FAILED", "JOB_CANCEL",
                 "USING_PREVIOUS_SNAPSHOT_FAILED"}
MAX_SERVERS = 8  # server rows drawn per wave; the rest are counted
ROLE_TITLES = {"orchestration": "orchestration function", "poller": "poller", "finder": "finder"}


@dataclass
class Event:
    """A moment (``end`` None) or a span on a row; ``status`` ok | failed | running | "" colours it."""

    at: datetime
    label: str
    kind: str  # round | invoke | error | phase | job | execution | end
    end: datetime | None = None
    status: str = ""


@dataclass
class Row:
    label: str
    events: list[Event] = field(default_factory=list)


@dataclass
class Lane:
    kind: str  # execution | wave | function
    title: str
    status: str = ""
    rows: list[Row] = field(default_factory=list)
    note: str = ""  # one line under the title: "2 of 2 servers LAUNCHED", "never ran"


@dataclass
class Timeline:
    start: datetime
    now: datetime  # the report's clock: when the facts were collected
    lanes: list[Lane] = field(default_factory=list)
    stop: datetime | None = None  # the last moment anything moved
    stop_label: str = ""
    end: datetime | None = None  # the axis' end: now, or a later log time the endpoint's clock gave

    def waves(self) -> list[Lane]:
        return [lane for lane in self.lanes if lane.kind == "wave"]


def build(snap: Snapshot) -> Timeline | None:
    """The timeline of the execution, or None when nothing about it has a time. A picture of the facts
    must never cost the diagnosis: facts it cannot draw (a hand-edited bundle) give no timeline."""
    try:
        return _build(snap)
    except Exception:  # the report is whole without it
        return None


def _build(snap: Snapshot) -> Timeline | None:
    now = snap.collected_at or datetime.now(timezone.utc)
    events = snap.history.oldest_first() if snap.history else []
    execution = snap.execution
    starts = [t for t in [execution.start_date if execution else None, *(e.timestamp for e in events[:1]),
                          *(job.creation_time for job in snap.drs_jobs)] if t is not None]
    if not starts:
        return None
    timeline = Timeline(start=min(starts), now=now)
    timeline.lanes.append(_machine_lane(snap, events, now))
    timeline.lanes += _wave_lanes(snap, now)
    timeline.lanes += _function_lanes(snap, events)
    timeline.stop, timeline.stop_label = _stop(snap, events, now)
    times = [moment for lane in timeline.lanes for row in lane.rows for event in row.events
             for moment in (event.at, event.end) if moment is not None]
    timeline.end = max([now, *times])
    return timeline


# ---- the state machine ---------------------------------------------------------------------------

def _machine_lane(snap: Snapshot, events: list[HistoryEvent], now: datetime) -> Lane:
    execution = snap.execution
    status = execution.status if execution else "?"
    lane = Lane("execution", "state machine", status)
    row = Row("execution")
    start = execution.start_date if execution and execution.start_date else None
    start = start or (events[0].timestamp if events else None)
    if start is not None:
        end = execution.stop_date if execution and execution.stop_date else now
        row.events.append(Event(start, f"execution {status}", "execution", end,
                                _status_word(status)))
    loop = _loop_state(events)
    rounds = [e for e in events if e.type.endswith("StateEntered") and e.state_name == loop]
    for number, event in enumerate(rounds, 1):
        row.events.append(Event(event.timestamp, f"round {number}: {loop}", "round"))
    for event in events:
        if event.type.endswith(("Failed", "TimedOut", "Aborted")) and event.type != "ExecutionFailed":
            row.events.append(Event(event.timestamp, _failure(event), "error", status="failed"))
        elif event.type in ("ExecutionFailed", "ExecutionSucceeded", "ExecutionTimedOut", "ExecutionAborted"):
            row.events.append(Event(event.timestamp, _failure(event) if "Succeeded" not in event.type
                                    else "execution succeeded", "end", status=_status_word(status)))
    lane.rows.append(row)
    lane.note = (f"{len(rounds)} polling rounds ({loop})" if loop else "no polling rounds") + (
        "" if not snap.history or snap.history.complete else "; only the newest events were read")
    return lane


def _loop_state(events: list[HistoryEvent]) -> str | None:
    """The state the polling loop enters every round: the one entered most often, at least twice."""
    counts = Counter(e.state_name for e in events if e.type.endswith("StateEntered") and e.state_name)
    if not counts:
        return None
    name, times = max(counts.items(), key=lambda item: (item[1], -_first(events, item[0])))
    return name if times >= 2 else None


def _first(events: list[HistoryEvent], name: str) -> int:
    return next(e.id for e in events if e.state_name == name)


def _failure(event: HistoryEvent) -> str:
    details = event.details
    what = " ".join(str(details.get(key)) for key in ("error", "cause") if details.get(key))
    return f"{event.type}: {what}"[:300] if what else event.type


# ---- waves: the DRS job and each server's launch phases ------------------------------------------

def _wave_lanes(snap: Snapshot, now: datetime) -> list[Lane]:
    record = snap.execution_record
    waves: list[tuple[WaveRecord | None, DrsJob | None]] = []
    if record and record.waves:
        waves = [(wave, snap.job(wave.job_id) if wave.job_id else None) for wave in record.waves]
    else:  # no record of the plan's waves: each recovery job is a wave, in the order they started
        jobs = sorted(snap.drs_jobs, key=lambda job: job.creation_time or now)
        waves = [(None, job) for job in jobs]
    return [_wave_lane(snap, number, wave, job, now) for number, (wave, job) in enumerate(waves, 1)]


def _wave_lane(snap: Snapshot, number: int, wave: WaveRecord | None, job: DrsJob | None,
               now: datetime) -> Lane:
    name = f" {wave.name}" if wave and wave.name else ""
    status = wave.status if wave else (job.status if job else "")
    lane = Lane("wave", f"wave {wave.number if wave else number}{name}", status)
    head = Row(job.job_id if job else "no DRS job")
    if job is not None and job.creation_time is not None:
        head.events.append(Event(job.creation_time, f"{job.job_id} {job.status}", "job",
                                 job.end_time or now, "ok" if job.end_time else "running"))
    lane.rows.append(head)
    servers = list(wave.server_ids) if wave and wave.server_ids else [s.source_server_id for s in
                                                                       (job.servers if job else [])]
    items = snap.job_log_items.get(job.job_id, []) if job else []
    ends = job.end_time if job else None
    for server in servers[:MAX_SERVERS]:
        outcome = next((s for s in job.servers if s.source_server_id == server), None) if job else None
        row = _server_row(snap, server, items, ends or now, outcome.launch_status if outcome else "")
        if not row.events and outcome is not None and job is not None and job.creation_time:
            # the job's log items were not read (only the current wave's are): its answer per server
            row.events.append(Event(job.creation_time, f"launch {outcome.launch_status}", "phase",
                                    job.end_time or now, _status_word(outcome.launch_status)))
        lane.rows.append(row)
    launched = Counter(s.launch_status for s in job.servers) if job else Counter()
    if job is None:
        lane.note = "not started: no DRS job"
    else:
        lane.note = ", ".join(f"{count} {state}" for state, count in sorted(launched.items())) + (
            f" of {len(servers)} servers" if servers else "")
    if len(servers) > MAX_SERVERS:
        lane.note += f"; {len(servers) - MAX_SERVERS} more servers not drawn"
    return lane


def _server_row(snap: Snapshot, server: str, items: list[JobLogItem], ends: datetime, launch: str) -> Row:
    """A server's phases from the job's log items; a phase the log does not close ends with the job, in
    the state DRS gives the server (LAUNCHED, FAILED, still IN_PROGRESS)."""
    known = next((s for s in snap.source_servers if s.source_server_id == server), None)
    row = Row(known.hostname if known and known.hostname else server)
    mine = sorted((item for item in items if item.time and item.details.get("sourceServerID") == server),
                  key=lambda item: item.time or ends)
    for phase, opens, closes in PHASES:
        start = next((item for item in mine if item.event == opens), None)
        if start is None or start.time is None:
            continue
        end = next((item for item in mine if item.event in closes and item.time and item.time >= start.time),
                   None)
        failed = end is not None and end.event in FAILED_EVENTS
        state = "failed" if failed else ("ok" if end else _status_word(launch))
        row.events.append(Event(start.time, phase, "phase", end.time if end and end.time else ends, state))
    for item in mine:
        if item.event in FAILED_EVENTS and item.time:
            reason = item.details.get("rawError") or item.details.get("reason") or ""
            row.events.append(Event(item.time, f"{item.event}: {reason}".rstrip(": ")[:300], "error",
                                    status="failed"))
    return row


# ---- functions by their role in the design -------------------------------------------------------

def _function_lanes(snap: Snapshot, events: list[HistoryEvent]) -> list[Lane]:
    invoked = _invocations(snap, events)
    lanes = []
    order = {"finder": 0, "poller": 1, "orchestration": 2}
    for function in sorted(snap.functions, key=lambda f: (order.get(f.kind, 3), f.name)):
        if function.kind not in order and not invoked.get(function.name):
            continue
        lanes.append(_function_lane(function, invoked.get(function.name, [])))
    return lanes


def _function_lane(function: Function, invoked: list[Event]) -> Lane:
    title = ROLE_TITLES.get(function.kind, "function")
    row = Row(function.name, list(invoked))
    if function.last_invocation is not None:
        row.events.append(Event(function.last_invocation, "last log event (last ran)", "invoke", status="ok"))
    if len(function.error_times) == len(function.recent_errors):  # each error line when it was logged
        row.events += [Event(at, f"logged: {_one_line(line)[:300]}", "error", status="failed")
                       for at, line in zip(function.error_times, function.recent_errors, strict=True)]
    notes = [f"{len(invoked)} invocations by the state machine"] if invoked else []
    notes.append(f"last ran {clock(function.last_invocation)}" if function.last_invocation
                 else "no log event: never ran in the logs' retention")
    if function.recent_errors:
        notes.append(f"{len(function.recent_errors)} error lines in its recent logs; the last: "
                     f"{_one_line(function.recent_errors[-1])[:160]}")
    failed = sum(1 for event in invoked if event.status == "failed")
    status = "errors" if function.recent_errors or failed else ("ran" if row.events else "never ran")
    return Lane("function", title, status, [row], "; ".join(notes))


def _invocations(snap: Snapshot, events: list[HistoryEvent]) -> dict[str, list[Event]]:
    """Each function the state machine invoked (by name): one event per invocation, failed or not."""
    found: dict[str, list[Event]] = {}
    current: Event | None = None
    for event in events:
        if event.type in ("LambdaFunctionScheduled", "TaskScheduled"):
            function = snap.function(_invoked_arn(event))
            current = None
            if function is not None:
                current = Event(event.timestamp, "invoked by the state machine", "invoke", status="ok")
                found.setdefault(function.name, []).append(current)
        elif current is not None and event.type.endswith(("Failed", "TimedOut")) and (
                event.type.startswith(("LambdaFunction", "Task"))):
            current.status, current.label = "failed", _failure(event)
            current = None
    return found


def _invoked_arn(event: HistoryEvent) -> str:
    resource = str(event.details.get("resource") or "")
    if resource.startswith("arn:"):
        return resource
    try:  # an optimised integration (arn:aws:states:::lambda:invoke): the function is a parameter
        parameters = json.loads(event.details.get("parameters") or "{}")
    except ValueError:
        return ""
    name = parameters.get("FunctionName") if isinstance(parameters, dict) else None
    return name if isinstance(name, str) else ""


# ---- where progress stopped ----------------------------------------------------------------------

def _stop(snap: Snapshot, events: list[HistoryEvent], now: datetime) -> tuple[datetime | None, str]:
    """The last moment anything moved (a DRS job event, a wave status written, a state the loop does
    not repeat), or when the execution ended."""
    execution = snap.execution
    if execution and execution.status != "RUNNING" and execution.stop_date:
        return execution.stop_date, f"execution {execution.status} at {clock(execution.stop_date)}"
    moments: list[tuple[datetime, str]] = []
    for job in snap.drs_jobs:
        for item in snap.job_log_items.get(job.job_id, []):
            if item.time:
                moments.append((item.time, f"DRS {job.job_id} {item.event}"))
        if job.creation_time:
            moments.append((job.creation_time, f"DRS {job.job_id} created"))
    record = snap.execution_record
    for wave in record.waves if record else []:
        if wave.updated_at:
            moments.append((wave.updated_at, f"wave {wave.number} status {wave.status} written"))
    if record and record.updated_at:
        moments.append((record.updated_at, f"record status {record.status} written"))
    loop = _loop_state(events)
    repeated = {name for name, count in Counter(e.state_name for e in events if e.state_name).items()
                if count > 2} | ({loop} if loop else set())
    for event in events:
        if event.type.endswith("StateEntered") and event.state_name not in repeated:
            moments.append((event.timestamp, f"state {event.state_name} entered"))
    moments = [(at, what) for at, what in moments if at <= now]
    if not moments:
        return None, ""
    at, what = max(moments, key=lambda moment: moment[0])
    return at, f"last progress {clock(at)} ({what}), {span(now - at)} before now"


# ---- words ---------------------------------------------------------------------------------------

def clock(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M:%S")


def span(delta: timedelta) -> str:
    """42 s, 17 min, 3 h 05 min: how long, for a reader."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _status_word(status: str) -> str:
    status = status.upper()
    if status in ("SUCCEEDED", "COMPLETED", "LAUNCHED"):
        return "ok"
    return "running" if status in ("RUNNING", "POLLING", "STARTED", "PENDING", "IN_PROGRESS") else "failed"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def text_lines(timeline: Timeline | None) -> list[str]:
    """The timeline in at most five lines for the terminal report, under the root cause."""
    if timeline is None:
        return []
    machine = next(lane for lane in timeline.lanes if lane.kind == "execution")
    lines = [f"TIMELINE {clock(timeline.start)} -> {clock(timeline.now)} UTC (now), "
             f"{span(timeline.now - timeline.start)}",
             f"  state machine: {machine.status}, {machine.note}"]
    waves = timeline.waves()
    if waves:
        lines.append("  " + " | ".join(f"{lane.title} {lane.status or '?'} ({lane.note})" for lane in waves))
    functions = [lane for lane in timeline.lanes if lane.kind == "function"]
    if functions:
        shared = {title for title, count in Counter(lane.title for lane in functions).items() if count > 1}
        lines.append("  " + " | ".join(f"{_function_name(lane, shared)}: {_function_words(lane)}"
                                       for lane in functions))
    if timeline.stop_label:
        lines.append(f"  {timeline.stop_label}")
    return lines[:5]


def _function_name(lane: Lane, shared: set[str]) -> str:
    return f"{lane.title} {lane.rows[0].label}" if lane.title in shared and lane.rows else lane.title


def _function_words(lane: Lane) -> str:
    last = max((event.at for row in lane.rows for event in row.events), default=None)
    if last is None:
        return "never ran"
    errors = " with errors" if lane.status == "errors" else ""
    return f"last ran {clock(last)}{errors}"
