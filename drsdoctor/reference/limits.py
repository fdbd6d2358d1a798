"""Why a recovery execution cannot reach Step Functions' 25,000-event history limit.

Each wave loops WaitForWave -> ReadWaveStatus -> CheckWaveStatus. The waits grow from
PollIntervalSeconds, doubling, up to max(PollIntervalSeconds, MaxPollIntervalSeconds), and the wave
times out at the first read WaveTimeoutMinutes after it started. So the reads per wave are bounded by
the parameters, whose MinValue/MaxValue in the template bound them in turn, and the orchestration
function refuses plans with more than MAX_WAVES waves.
"""

from __future__ import annotations

from typing import Any

HISTORY_EVENT_LIMIT = 25_000
MAX_WAVES = 10  # the orchestration function's own MAX_WAVES (a test keeps the two equal)


def wave_waits(poll_interval: int, max_poll_interval: int) -> Any:
    """The waits before each read of a wave's status, forever (the orchestration function's backoff)."""
    cap = max(poll_interval, max_poll_interval)
    attempt = 0
    while True:
        yield min(cap, poll_interval * 2 ** min(attempt, 20))
        attempt += 1


def max_wave_reads(poll_interval: int, max_poll_interval: int, timeout_minutes: int) -> int:
    """Most ReadWaveStatus runs one wave can have: the first read at or after the timeout ends the loop."""
    elapsed = 0
    for reads, wait in enumerate(wave_waits(poll_interval, max_poll_interval), start=1):
        elapsed += wait
        if elapsed >= timeout_minutes * 60:
            return reads
    raise AssertionError("unreachable: wave_waits never ends")


def max_history_events(events_per_read: int, events_per_wave: int, events_per_execution: int,
                       poll_interval: int, max_poll_interval: int, timeout_minutes: int,
                       waves: int = MAX_WAVES) -> int:
    """Worst-case history length of one execution, from event counts measured on a real history."""
    reads = max_wave_reads(poll_interval, max_poll_interval, timeout_minutes)
    return events_per_execution + waves * (events_per_wave + reads * events_per_read)


def worst_case_parameters(template: dict[str, Any]) -> dict[str, int]:
    """The parameter values that make the loop longest: shortest waits, longest timeout."""
    parameters = template["Parameters"]
    return {
        "poll_interval": int(parameters["PollIntervalSeconds"]["MinValue"]),
        "max_poll_interval": int(parameters["MaxPollIntervalSeconds"]["MinValue"]),
        "timeout_minutes": int(parameters["WaveTimeoutMinutes"]["MaxValue"]),
    }
