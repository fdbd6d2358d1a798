"""Test doubles shared across test folders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


class FakeClock:
    """The DRS simulator's clock: tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 7, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
