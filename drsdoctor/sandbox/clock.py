"""The sandbox's one virtual clock: schedule rules, DRS job lifecycles and Step Functions Wait states run on
it.

Simulated time starts at the wall time of creation and moves only forward: `advance(seconds)` moves it at
once (tests), `run(speed)` moves it in a background thread `speed` times faster than the wall clock (demo,
serve), but never past the wall clock: a world started in the past catches up with now and then runs at real
speed. Anything waiting for a simulated instant uses `wait_until`, which wakes as soon as the clock passes
it. While something holds the clock (`with clock.hold():`, e.g. a function invocation in flight) the flow
pauses, so work takes no simulated time and a loaded machine cannot make a healthy wave look stuck.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# One simulated minute every 0.3 s of real time: a 3-wave recovery takes seconds, not half an hour.
DEFAULT_SPEED = 200.0
_TICK_SECONDS = 0.02


class Clock:
    """Simulated UTC time; thread-safe."""

    def __init__(self, start: datetime.datetime | None = None) -> None:
        self._now = (start or datetime.datetime.now(datetime.timezone.utc)).astimezone(datetime.timezone.utc)
        self._changed = threading.Condition()
        self._runner: threading.Thread | None = None
        self._stop = threading.Event()
        self.speed = 0.0
        self._listeners: list[Callable[[datetime.datetime], None]] = []
        self._holds = 0

    def now(self) -> datetime.datetime:
        """The simulated time, timezone-aware UTC."""
        with self._changed:
            return self._now

    def timestamp(self) -> float:
        """The simulated time as epoch seconds."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime.datetime:
        """Move simulated time forward by `seconds` and wake everything waiting on it."""
        if seconds < 0:
            raise ValueError("the clock never goes back")
        with self._changed:
            self._now += datetime.timedelta(seconds=seconds)
            now = self._now
            self._changed.notify_all()
        for listener in list(self._listeners):
            listener(now)
        return now

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Pause the flow of simulated time while the block runs (advance() still works)."""
        release = self.hold_open()
        try:
            yield
        finally:
            release()

    def hold_open(self) -> Callable[[], None]:
        """Pause the flow until the returned function is called; for work that ends in another thread."""
        with self._changed:
            self._holds += 1
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                with self._changed:
                    self._holds -= 1

        return release

    def on_advance(self, listener: Callable[[datetime.datetime], None]) -> None:
        """Call `listener(now)` after every move of the clock (in the thread that moved it)."""
        self._listeners.append(listener)

    def wait_until(self, instant: datetime.datetime, cancelled: Callable[[], bool] = lambda: False,
                   real_timeout: float | None = None) -> bool:
        """Block until simulated time reaches `instant`; False if cancelled or the real timeout ran out."""
        deadline = None if real_timeout is None else time.monotonic() + real_timeout
        with self._changed:
            while self._now < instant:
                if cancelled():
                    return False
                remaining = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def sleep(self, seconds: float, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Wait `seconds` of simulated time."""
        return self.wait_until(self.now() + datetime.timedelta(seconds=seconds), cancelled)

    def run(self, speed: float = DEFAULT_SPEED) -> None:
        """Let simulated time flow `speed` times faster than real time, in a background thread."""
        self.speed = speed
        if self._runner is not None:
            return
        self._stop.clear()
        self._runner = threading.Thread(target=self._flow, name="sandbox-clock", daemon=True)
        self._runner.start()

    def pause(self) -> None:
        """Stop the flow of time (advance() still works)."""
        self._stop.set()
        if self._runner is not None:
            self._runner.join(timeout=5)
        self._runner = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    def _flow(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(_TICK_SECONDS):
            current = time.monotonic()
            with self._changed:
                held = self._holds > 0
            if not held:
                # The flow never runs past the wall clock: whatever the world writes is never in the future.
                ahead = (datetime.datetime.now(datetime.timezone.utc) - self.now()).total_seconds()
                step = min((current - last) * self.speed, ahead)
                if step > 0:
                    self.advance(step)
            last = current
