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

# DRS's limits a plan meets (StartRecovery's API reference; the service quotas in the DRS endpoints and
# quotas page, not adjustable unless said): a wave's batches run at once, so a wave fits in all active jobs.
MAX_SERVERS_PER_START_RECOVERY = 200  # sourceServers: 1 to 200 items (also DescribeSourceServers' filter)
MAX_JOB_IDS_PER_DESCRIBE = 1000  # DescribeJobs filters.jobIDs: at most 1000 items
MAX_CONCURRENT_JOBS = 20  # quota L-D88FAC3A: jobs in progress (PENDING or STARTED)
MAX_SERVERS_IN_ALL_JOBS = 500  # quota L-05AFA8C6: source servers in all active jobs
MAX_SOURCE_SERVERS_PER_ACCOUNT = 4000  # quota L-E28BE5E0 (adjustable): source servers in an account
DYNAMODB_ITEM_LIMIT = 400 * 1024  # bytes: the execution record is one item


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


def item_size(item: dict[str, Any]) -> int:
    """A DynamoDB item's size in bytes as DynamoDB counts it against the 400 KB limit: attribute names and
    values (strings in UTF-8, numbers about a byte per two digits, lists and maps 3 bytes plus a byte an
    element), an upper estimate to within a few bytes an attribute."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        digits = str(abs(value)).replace(".", "").lstrip("0")
        return 1 + (len(digits) + 1) // 2
    if isinstance(value, (list, tuple)):
        return 3 + sum(_value_size(element) + 1 for element in value)
    if isinstance(value, dict):
        return 3 + sum(len(str(key).encode()) + _value_size(element) + 1 for key, element in value.items())
    raise TypeError(f"not a DynamoDB value: {type(value).__name__}")
