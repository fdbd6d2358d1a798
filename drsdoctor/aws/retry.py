"""Retries that ride out an account under load, never wait past the run's budget, and wait on a clock that
tests can advance instead of sleeping.

botocore's own retry handler decides whether a response is worth another attempt (throttling, transient
5xx, a dropped connection: the "standard" mode every AWS SDK shares) but sleeps with `time.sleep` itself. This
handler takes its place on each client: it asks botocore's conditions, waits with full-jitter exponential
backoff on the session's clock, and tells botocore to resend at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# 8 attempts: with 30% of calls throttled one call gives up once in 15,000 (0.3 ** 8), where botocore's
# default of 3 would give up once in 37; the --timeout budget bounds the waiting.
MAX_ATTEMPTS = 8
# A network failure (nobody answering, a timeout) is tried only this often: an endpoint that does not answer
# twice rarely does the fifth time, and an operator is waiting to hear that it is unreachable.
NETWORK_ATTEMPTS = 3
BASE_DELAY = 0.5  # seconds before the first retry, at most; doubled each time
MAX_DELAY = 20.0  # botocore's own cap on one backoff


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def backoff(attempt: int, draw: Callable[[], float] = random.random) -> float:
    """Full jitter (AWS's advice for many clients backing off at once): a uniform wait up to
    BASE_DELAY * 2 ** (attempt - 1), capped at MAX_DELAY; `attempt` is the one that just failed (1-based)."""
    return draw() * min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))


@dataclass
class Patience:
    """A client's needs-retry handler: whether to try again, and the wait first.

    `out_of_budget(delay)` says whether waiting `delay` seconds would run past the whole-run budget; then the
    handler raises `give_up(service, operation, what the last attempt raised or answered)` instead of waiting
    for an answer that could no longer be used."""

    max_attempts: int
    clock: Clock
    out_of_budget: Callable[[float], bool]
    give_up: Callable[[str, str, BaseException | None], BaseException]
    draw: Callable[[], float] = random.random
    _conditions: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from botocore.retries.standard import StandardRetryConditions

        self._conditions = StandardRetryConditions(max_attempts=self.max_attempts)

    def needs_retry(self, attempts: int, response: Any, caught_exception: Any, operation: Any,
                    request_dict: dict[str, Any], **_: Any) -> float | None:
        from botocore.retries.standard import RetryContext

        http_response, parsed = response if response is not None else (None, None)
        context = RetryContext(attempt_number=attempts, operation_model=operation, parsed_response=parsed,
                               http_response=http_response, caught_exception=caught_exception,
                               request_context=request_dict.get("context"))
        if not self._conditions.is_retryable(context):
            return None
        if attempts >= NETWORK_ATTEMPTS and _network_failure(caught_exception):
            return None
        delay = backoff(attempts, self.draw)
        if self.out_of_budget(delay):  # said with what the last attempt got: throttled, HTTP 500...
            last = caught_exception or _client_error(parsed, operation.name)
            raise self.give_up(operation.service_model.service_id.hyphenize(), operation.name, last)
        self.clock.sleep(delay)
        return 0  # botocore resends at once: the wait is over


def _client_error(parsed: Any, operation: str) -> BaseException | None:
    from botocore.exceptions import ClientError

    return ClientError(parsed, operation) if isinstance(parsed, dict) else None


def _network_failure(error: BaseException | None) -> bool:
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(error, (ConnectionError, HTTPClientError))


def install(client: Any, patience: Patience) -> None:
    """Put `patience` in place of the retry handler botocore registered for this client's service."""
    service = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    events.register(f"needs-retry.{service}", patience.needs_retry, unique_id=f"drsdoctor-retry-{service}")
