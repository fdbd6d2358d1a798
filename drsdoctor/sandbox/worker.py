"""One function's warm container: `python -m drsdoctor.sandbox.worker CODE_DIR HANDLER`.

The parent (runtime.py) starts it with exactly the function's deployed environment. It reads one invocation
per line on stdin ({"event", "request_id", "deadline"}) and answers one line on its protocol stream: the
handler's result, or Lambda's error shape (errorMessage, errorType, stackTrace), plus what the function
printed. Only the standard library and the function's own imports are loaded here. The function sees the
sandbox's simulated time: `time.time()` and `datetime.now()` start each invocation at the clock's "now" and
run at real speed from there (the clock is held while a function runs), so the timestamps it writes match
the world's.
"""

from __future__ import annotations

import datetime
import importlib
import io
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

_real_time = time.time
_offset = 0.0  # simulated minus real seconds, set at each invocation


def _simulated_time() -> float:
    return _real_time() + _offset


class _SimulatedDateTime(datetime.datetime):
    """datetime whose now/utcnow/today read the simulated time."""

    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _SimulatedDateTime:
        return cls.fromtimestamp(_simulated_time(), tz)

    @classmethod
    def utcnow(cls) -> _SimulatedDateTime:
        return cls.fromtimestamp(_simulated_time(), datetime.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls) -> _SimulatedDateTime:
        return cls.fromtimestamp(_simulated_time())


def _install_simulated_time() -> None:
    """Before the function's modules load, so `from datetime import datetime` gets the simulated one."""
    time.time = _simulated_time
    datetime.datetime = _SimulatedDateTime  # type: ignore[misc]


class _Context:
    """The parts of Lambda's context object that function code reads."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self._deadline = deadline
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("DRSDOCTOR_SANDBOX_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - _real_time()) * 1000))


class _CurrentStdout(logging.Handler):
    """Lambda's Python runtime logs to stdout as `[LEVEL]\\ttime\\trequest id\\tmessage`."""

    request_id = ""

    def emit(self, record: logging.LogRecord) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created + _offset))
        sys.stdout.write(f"[{record.levelname}]\t{stamp}.{int(record.msecs):03d}Z\t{self.request_id}\t"
                         f"{self.format(record)}\n")


class _InitError(Exception):
    """An init failure as Lambda's Python runtime names it (awslambdaric's FaultException)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []


def _load_handler(code_dir: str, handler: str) -> Any:
    """The handler, or _InitError with the type and message Lambda reports for a handler that cannot load."""
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    module_name, dot, attribute = handler.rpartition(".")
    if not dot or not module_name:
        raise _InitError("Runtime.MalformedHandlerName",
                         f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise _InitError("Runtime.ImportModuleError",
                         f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise _InitError("Runtime.UserCodeSyntaxError",
                         f"Syntax error in module '{module_name}': {error}", trace) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise _InitError("Runtime.HandlerNotFound",
                         f"Handler '{attribute}' missing on module '{module_name}'") from None


def _init(code_dir: str, handler_name: str) -> tuple[Any, dict[str, Any] | None]:
    """Load the handler: (handler, None), or (None, Lambda's error shape) when init fails."""
    try:
        return _load_handler(code_dir, handler_name), None
    except _InitError as error:
        return None, {"errorMessage": error.message, "errorType": error.error_type, "requestId": "",
                      "stackTrace": error.trace}
    except Exception as error:  # an exception while the module ran: its own type, as Lambda reports it
        frames = traceback.format_tb(error.__traceback__)[1:]
        return None, {"errorMessage": str(error), "errorType": type(error).__name__, "requestId": "",
                      "stackTrace": frames}


def _error_lines(error: dict[str, Any]) -> str:
    """What Lambda's Python runtime logs for an error: one event, its lines joined by carriage returns,
    the traceback's indentation in no-break spaces (awslambdaric's log_error)."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}", "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in element.splitlines():
            stripped = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    return "\r".join(lines) + "\n"


def _init_report(started: float, phase: str, error: dict[str, Any]) -> str:
    millis = (_real_time() - started) * 1000
    return (f"INIT_REPORT Init Duration: {millis:.2f} ms\tPhase: {phase}\tStatus: error\t"
            f"Error Type: {error['errorType']}\n")


def main() -> None:
    global _offset
    code_dir, handler_name = sys.argv[1], sys.argv[2]
    _install_simulated_time()
    # The protocol keeps the real stdout; anything written to fd 1 later lands on stderr instead.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    log_handler = _CurrentStdout()
    logging.getLogger().addHandler(log_handler)
    logging.getLogger().setLevel(logging.WARNING)
    captured = io.StringIO()
    sys.stdout = captured
    started = _real_time()
    handler, init_error = _init(code_dir, handler_name)
    if init_error is not None:
        print(_error_lines(init_error) + _init_report(started, "init", init_error), end="")
    init_output = captured.getvalue()
    for line in sys.stdin:
        request = json.loads(line)
        _offset = request.get("now", _real_time()) - _real_time()
        captured = io.StringIO()
        captured.write(init_output)
        init_output = ""
        sys.stdout = captured
        log_handler.request_id = request["request_id"]
        answer: dict[str, Any]
        if init_error is not None:
            # Lambda initialises a failed environment again in the invoke phase, and it fails again.
            started = _real_time()
            handler, init_error = _init(code_dir, handler_name)
            if init_error is not None:
                print(_error_lines(init_error) + _init_report(started, "invoke", init_error), end="")
        before_start = captured.getvalue()  # init's lines come before the invocation's START
        captured = io.StringIO()
        sys.stdout = captured
        if init_error is not None:
            answer = {"ok": False, "init_failed": True, **init_error}
        else:
            try:
                result = handler(request["event"], _Context(request["request_id"], request["deadline"]))
                answer = {"ok": True, "result": json.dumps(result, default=str)}
            except Exception as error:
                frames = traceback.format_tb(error.__traceback__)[1:]
                answer = {"ok": False, "errorMessage": str(error), "errorType": type(error).__name__,
                          "requestId": request["request_id"], "stackTrace": frames}
                print(_error_lines(answer), end="")
        answer["init_output"], answer["output"] = before_start, captured.getvalue()
        sys.stdout = sys.__stdout__
        protocol.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
