"""The demo run: start a world, break it (or not), run the first plan until it ends or is visibly stuck.

`run_demo(fault)` returns a DemoResult while the world is still up (use it as a context manager, or call
`result.world.close()`), so diagnose can inspect the very execution the demo ran:

    with run_demo("finder-rule-disabled") as result:
        result.execution_arn, result.outcome.status, result.world.endpoint_url
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from drsdoctor.sandbox.world import Outcome, Sandbox

Report = Callable[[str], None]


@dataclass
class DemoResult:
    execution_arn: str
    outcome: Outcome
    world: Sandbox
    fault: str | None
    wall_seconds: float

    def __enter__(self) -> DemoResult:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.world.close()

    def summary(self) -> list[str]:
        """A few lines for the operator: what ran, how it ended, where it is."""
        outcome = self.outcome
        waves = ", ".join(f"{wave.name} {status}" for wave, status in
                          zip(self.world.plans[0].waves, outcome.wave_statuses, strict=False)) or "no waves"
        minutes = outcome.simulated_seconds / 60
        lines = [f"execution {self.execution_arn}",
                 f"state {outcome.status} after {minutes:.0f} simulated minutes ({self.wall_seconds:.1f} s)",
                 f"waves: {waves}"]
        if outcome.status == "SUCCEEDED":
            lines.append(f"recovery instances: {len(self.world.recovery_instances())}")
        if self.fault:
            lines.append(f"fault injected: {self.fault}")
        return lines


class ProgressDisplay:
    """Progress on stderr. On a terminal (and colour allowed: NO_COLOR, --no-color), each step is printed as
    it starts and a status line under them runs the elapsed time live; otherwise plain lines, one a step."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 live: bool | None = None) -> None:
        from drsdoctor.report.terminal import color_wanted

        self.stream = stream or sys.stderr
        self.clock = clock
        self.started = clock()
        self.message = "starting the sandbox"
        self._status: Any = None
        self._last = ""
        if color_wanted(self.stream) if live is None else live:
            from rich.console import Console

            console = Console(file=self.stream, force_terminal=True, highlight=False)
            self._status = console.status(_Elapsed(self))
            self._status.start()

    def line(self, message: str) -> str:
        """A progress line: the time since the start, then what is happening."""
        return f"[{self.clock() - self.started:5.1f}s] {message}"

    def step(self, message: str) -> None:
        if message == self._last:
            return
        self._last = self.message = message
        if self._status is not None:  # no source location: rich's log() would add demo.py:NN
            self._status.console.print(self.line(message), markup=False, highlight=False)
        else:
            print(self.line(message), file=self.stream, flush=True)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


class _Elapsed:
    """The status line's text, rendered at each refresh: its elapsed time moves while a step runs."""

    def __init__(self, display: ProgressDisplay) -> None:
        self.display = display

    def __rich__(self) -> str:
        return self.display.line(self.display.message)


def run_demo(fault: str | None = None, report: Report | None = None,
             speed: float | None = None, orchestrator: str = "reference") -> DemoResult:
    """Deploy the orchestrator (drsdoctor.sandbox.orchestrators), break it (unless fault is None or "none"),
    run the first plan; the world stays up."""
    say = report or (lambda _message: None)
    fault = None if fault in (None, "none") else fault
    started = time.monotonic()
    injecting = f" and injecting {fault}" if fault else ""
    say(f"deploying the {orchestrator} orchestrator into the sandbox{injecting}")
    options: dict[str, Any] = {"speed": speed} if speed else {}
    world = Sandbox.start(fault=fault, orchestrator=orchestrator, **options)
    try:
        arn = world.start_recovery()
        say(f"recovery started: {arn.rsplit(':', 1)[-1]}")
        names = [wave.name for wave in world.plans[0].waves]

        def progress(status: str, waves: list[str]) -> None:
            shown = " | ".join(f"{name} {state}" for name, state in zip(names, waves, strict=False))
            say(f"{status:<9} {shown or 'beginning the plan'}  (simulated {world.clock.now():%H:%M})")

        outcome = world.run_until_settled(arn, on_progress=progress)
    except BaseException:
        world.close()
        raise
    say(f"execution {outcome.status}")
    return DemoResult(arn, outcome, world, fault, time.monotonic() - started)
