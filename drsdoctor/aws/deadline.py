"""Deadlines that hold while an answer is being read.

botocore's connect and read timeouts bound each wait for a byte, not a call: an endpoint that drips its
answer one byte a second never trips them, and a budget checked only before each request is outlived by the
request in flight. So each call of a session's client runs in a thread of its own while the caller waits at
most the seconds left (the run's --timeout, and never more than CALL_LIMIT for one call); past them the caller
gives up, and the call left behind sends nothing more (its retries ask `abandoned()` first).

The thread is a daemon: an answer still dripping in never keeps drsdoctor from exiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# One call, its retries included, never takes longer: the longest wait a call that will succeed needs is
# about a minute (8 throttled attempts with backoff, or 3 reads that time out after 20 s each).
CALL_LIMIT = 90.0

_current = threading.local()


def abandoned() -> bool:
    """Whether the call running in this thread was given up by its caller: send nothing more for it."""
    given_up: threading.Event | None = getattr(_current, "given_up", None)
    return given_up is not None and given_up.is_set()


def bound(client: Any, seconds_left: Callable[[], float], call_limit: float,
          give_up: Callable[[str, str, float], BaseException | None]) -> None:
    """Make every call of `client` wait for its answer at most `call_limit` seconds, and only while
    `seconds_left()` (the budget, on the session's clock) says there is time; then `give_up(service,
    operation, seconds waited)` says what to raise (None: wait on, for a clock a test moves by hand)."""
    service = client.meta.service_model.service_id.hyphenize()
    original = client._make_api_call

    def make_api_call(operation_name: str, api_params: dict[str, Any]) -> Any:
        outcome: dict[str, Any] = {}
        done, given_up = threading.Event(), threading.Event()

        def call() -> None:
            _current.given_up = given_up
            try:
                outcome["answer"] = original(operation_name, api_params)
            except BaseException as error:  # handed to the caller, in its own thread
                outcome["error"] = error
            finally:
                done.set()

        threading.Thread(target=call, name=f"aws-{service}-{operation_name}", daemon=True).start()
        started = time.monotonic()
        while not done.wait(max(0.0, min(seconds_left(), call_limit - (time.monotonic() - started)))):
            failure = give_up(service, operation_name, time.monotonic() - started)
            if failure is not None:
                given_up.set()
                raise failure
        if "error" in outcome:
            raise outcome["error"]
        return outcome["answer"]

    client._make_api_call = make_api_call
