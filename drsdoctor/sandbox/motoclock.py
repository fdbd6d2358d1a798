"""moto reads the sandbox clock: one clock for every timestamp the world writes (a patch of motopatch.py).

The sandbox clock starts behind the wall clock (hours for a test, days for `sandbox serve`) and runs faster
than it; moto stamps what it creates with the wall clock. Where the two met, a reader saw an execution start
days after its functions' log lines. Here every moto module the world uses reads "now" from the sandbox
clock: the `utcnow` they import from moto.core.utils (and the one unix_time and the ISO helpers call), and
the `datetime` module the Step Functions engine calls `datetime.datetime.now()` on (execution start and stop
dates, the context object's EnteredTime, Wait states' Timestamp, map runs).
"""

from __future__ import annotations

import datetime
import importlib
import sys
from collections.abc import Callable
from typing import Any

Now = Callable[[], datetime.datetime]  # timezone-aware UTC
Replace = Callable[[Any, str, Any], None]

_REAL_DATETIME = datetime.datetime
# Loaded first, so their bindings are patched too (the world would load them at deploy, after the patch).
_SERVICES = ("moto.logs.models", "moto.cloudwatch.models", "moto.awslambda.models", "moto.events.models",
             "moto.dynamodb.models", "moto.cloudformation.models", "moto.iam.models", "moto.sts.models",
             "moto.sqs.models", "moto.sns.models", "moto.ec2.models", "moto.s3.models",
             "moto.stepfunctions.parser.models", "moto.stepfunctions.parser.asl.component.state.state",
             "moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp",
             "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl",
             "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor."
             "map_run_record")


class _AnyDatetime(type):
    """isinstance/issubclass against the clock's datetime answer as against datetime itself."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, _REAL_DATETIME)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, _REAL_DATETIME)


def _clock_datetime(now: Now) -> type:
    class ClockDatetime(_REAL_DATETIME, metaclass=_AnyDatetime):
        """datetime whose now/utcnow/today read the sandbox clock; what they return is a plain datetime."""

        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> datetime.datetime:  # type: ignore[override]
            return _REAL_DATETIME.fromtimestamp(now().timestamp(), tz)

        @classmethod
        def utcnow(cls) -> datetime.datetime:  # type: ignore[override]
            return now().astimezone(datetime.timezone.utc).replace(tzinfo=None)

        @classmethod
        def today(cls) -> datetime.datetime:  # type: ignore[override]
            return _REAL_DATETIME.fromtimestamp(now().timestamp())

    return ClockDatetime


class _DatetimeModule:
    """The datetime module, but for its `datetime`, which reads the sandbox clock."""

    def __init__(self, clock_datetime: type) -> None:
        self.datetime = clock_datetime

    def __getattr__(self, name: str) -> Any:
        return getattr(datetime, name)


def patch(replace: Replace, now: Now) -> None:
    """Point moto's own clocks at `now` through `replace` (motopatch's, so uninstall undoes it)."""
    from moto.core import utils

    for name in _SERVICES:
        importlib.import_module(name)
    original_utcnow = utils.utcnow

    def utcnow() -> datetime.datetime:
        return now().astimezone(datetime.timezone.utc).replace(tzinfo=None)

    module = _DatetimeModule(_clock_datetime(now))
    for name, loaded in list(sys.modules.items()):
        if not name.startswith("moto.") or loaded is None:
            continue
        if loaded.__dict__.get("utcnow") is original_utcnow:
            replace(loaded, "utcnow", utcnow)
        if name.startswith("moto.stepfunctions.parser.") and loaded.__dict__.get("datetime") is datetime:
            replace(loaded, "datetime", module)
