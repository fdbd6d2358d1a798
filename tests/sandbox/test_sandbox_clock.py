"""The virtual clock: moves only forward, wakes waiters, pauses while held, never runs past the wall clock."""

from __future__ import annotations

import datetime
import threading

import pytest

from drsdoctor.sandbox.clock import Clock

START = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)


def test_advance_moves_time_forward_and_never_back() -> None:
    clock = Clock(START)
    assert clock.advance(90) == START + datetime.timedelta(seconds=90)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now() == START + datetime.timedelta(seconds=90)


def test_a_waiter_wakes_when_the_clock_passes_its_instant() -> None:
    clock = Clock(START)
    woke: list[datetime.datetime] = []
    waiter = threading.Thread(target=lambda: woke.append(clock.now()) if clock.sleep(300) else None)
    waiter.start()
    clock.advance(299)
    assert not woke
    clock.advance(1)
    waiter.join(timeout=5)
    assert woke == [START + datetime.timedelta(seconds=300)]


def test_a_cancelled_wait_returns_false() -> None:
    clock = Clock(START)
    assert clock.wait_until(START + datetime.timedelta(hours=1), cancelled=lambda: True) is False


def test_flowing_time_pauses_while_held() -> None:
    clock = Clock(START)
    clock.run(speed=10_000)
    try:
        with clock.hold():
            held_at = clock.now()
            assert not clock.wait_until(held_at + datetime.timedelta(seconds=1), real_timeout=0.3)
            assert clock.now() == held_at
        assert clock.wait_until(held_at + datetime.timedelta(minutes=1), real_timeout=10)
    finally:
        clock.pause()


def test_flowing_time_never_runs_past_the_wall_clock() -> None:
    clock = Clock(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5))
    clock.run(speed=1_000_000)
    try:
        wall = datetime.datetime.now(datetime.timezone.utc)
        clock.wait_until(wall, real_timeout=5)
        assert clock.now() <= datetime.datetime.now(datetime.timezone.utc)
    finally:
        clock.pause()
