"""The call log: every AWS call a run made, with how long it took and how it ended (shown with -v)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from drsdoctor.secrets import Scrubber

_STARTED = "drsdoctor_started"
_MODEL = "drsdoctor_model"
_PARAMS = "drsdoctor_params"


@dataclass(frozen=True)
class CallRecord:
    service: str  # botocore's hyphenized service id: sfn, lambda, cloudwatch-logs
    operation: str
    duration_ms: float
    outcome: str  # ok, refused, or the error code / exception name
    retries: int = 0
    params: str = ""  # the call's parameters as canonical JSON: tells two distinct calls apart

    def line(self) -> str:
        again = f" after {self.retries} retries" if self.retries else ""
        return f"{self.service}:{self.operation} {self.outcome} {self.duration_ms:.0f} ms{again}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CallLog:
    """Thread-safe: the collector calls AWS from a pool of threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[CallRecord] = []
        # HTTP GETs of URLs an AWS answer gave (a function's code location): not AWS operations, kept apart
        self.fetches: list[CallRecord] = []

    def fetched(self, record: CallRecord) -> None:
        with self._lock:
            self.fetches.append(record)

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)

    def operations(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(record.service, record.operation) for record in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def summary(self) -> str:
        with self._lock:
            total = sum(record.duration_ms for record in self.records)
            failed = sum(1 for record in self.records if record.outcome != "ok")
            return f"{len(self.records)} AWS calls, {failed} failed, {total:.0f} ms of calls"

    # botocore event handlers, registered by the session on every client it makes.

    def on_provide_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # kept to tell calls apart, never to be shown: still, no credential-shaped value is stored
        context[_PARAMS] = Scrubber().text(json.dumps(params, sort_keys=True, default=str))

    def distinct_calls(self) -> int:
        with self._lock:
            return len({(r.service, r.operation, r.params) for r in self.records})

    def on_before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_STARTED] = time.perf_counter()
        context[_MODEL] = model  # after-call-error is not given the operation model

    def on_after_call(self, model: Any, http_response: Any, parsed: dict[str, Any], context: dict[str, Any],
                      **_: Any) -> None:
        outcome = "ok"
        if http_response.status_code >= 300:
            outcome = str(parsed.get("Error", {}).get("Code") or http_response.status_code)
        retries = int(parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        self._record(model, context, outcome, retries)

    def on_after_call_error(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        model = context.get(_MODEL)
        if model is not None:
            self._record(model, context, type(exception).__name__, 0)

    def refused(self, model: Any, context: dict[str, Any]) -> None:
        self.add(CallRecord(model.service_model.service_id.hyphenize(), model.name, 0.0, "refused", 0,
                            context.get(_PARAMS, "")))

    def _record(self, model: Any, context: dict[str, Any], outcome: str, retries: int) -> None:
        elapsed = (time.perf_counter() - context.get(_STARTED, time.perf_counter())) * 1000
        self.add(CallRecord(model.service_model.service_id.hyphenize(), model.name, elapsed, outcome, retries,
                            context.get(_PARAMS, "")))
