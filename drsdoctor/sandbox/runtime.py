"""The function runtime: deployed function code runs the way Lambda runs it.

Each function gets warm containers: worker subprocesses (worker.py) started with exactly the function's
deployed environment variables, the sandbox endpoint, its region and the credentials of its own role
(sts:AssumeRole), so the code uses plain boto3 and the DRS simulator sees the role. A container is replaced
when the function's code or configuration changes, so `lambda:UpdateFunctionConfiguration` changes behaviour
on the next invocation. Every invocation writes START/END/REPORT and the function's output to
`/aws/lambda/<name>` and counts AWS/Lambda Invocations, Errors and Throttles. Reserved concurrency throttles
as Lambda does; async invocations are queued.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.core.exceptions import JsonRESTError

from drsdoctor.sandbox.clock import Clock
from drsdoctor.sandbox.interpreter import interpreter_for
from drsdoctor.sandbox.lambda_async import ASYNC_RETRIES, event_config, send_to_destination

_ASYNC_WORKERS = 4


class Throttled(JsonRESTError):
    """Lambda's answer when reserved concurrency is used up (0 throttles every invocation)."""

    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps({"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                                       "Type": "User", "message": "Rate Exceeded.",
                                       "__type": "TooManyRequestsException"})


@dataclass
class Invocation:
    """What one invocation returned, as Lambda reports it."""

    payload: bytes
    function_error: str | None = None
    log_tail: str = ""
    logged_at: datetime.datetime | None = None  # when its lines went to the log (the sandbox clock)


@dataclass
class _Container:
    fingerprint: str
    process: subprocess.Popen[str]
    log_stream: str
    busy: bool = False
    notice: str = ""  # the sandbox's own lines for the container's first invocation (its interpreter)


@dataclass
class _FunctionPool:
    containers: list[_Container] = field(default_factory=list)
    in_flight: int = 0


def _lines(output: str) -> list[str]:
    """Log events from a function's output: one a line; a carriage return stays inside its event, as the
    runtime's multi-line error is one event in CloudWatch Logs."""
    return [line for line in output.split("\n") if line.strip()]


def _fingerprint(function: Any) -> str:
    """Code, handler, runtime, role and environment: what makes a container stale when it changes."""
    parts = [function.code_sha_256, function.handler, str(function.run_time), function.role,
             str(function.timeout), json.dumps(function.environment_vars, sort_keys=True)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class FunctionRuntime:
    """Runs Lambda functions' own code in warm worker subprocesses against the sandbox endpoint."""

    def __init__(self, clock: Clock, endpoint_url: str, region: str) -> None:
        self.clock = clock
        self.endpoint_url = endpoint_url
        self.region = region
        self._pools: dict[str, _FunctionPool] = {}
        self._lock = threading.Lock()
        self._code_lock = threading.Lock()
        self._code_root = Path(tempfile.mkdtemp(prefix="drsdoctor-functions-"))
        self._async = ThreadPoolExecutor(max_workers=_ASYNC_WORKERS, thread_name_prefix="lambda-async")
        self._closed = False
        session = self._session = boto3.session.Session(
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=region)
        self._sts = session.client("sts", endpoint_url=endpoint_url)
        self._logs = session.client("logs", endpoint_url=endpoint_url)
        self._cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)

    # -- invocation -----------------------------------------------------------------------------------------

    def invoke(self, function: Any, body: bytes | str | None, invocation_type: str = "RequestResponse",
               response_headers: dict[str, str] | None = None) -> bytes:
        """moto's Lambda invoke, answered by running the function's code; sets FunctionError like Lambda."""
        event = json.loads(body) if body else {}
        if invocation_type == "Event":
            # Lambda accepts an async event even when throttled; the sandbox counts the throttle and drops it.
            try:
                self._admit(function)
            except Throttled:
                return b""
            # Queued work holds the clock too, so the next schedule tick cannot overtake it.
            release = self.clock.hold_open()
            self._async.submit(self._run_queued, function, event, release)
            return b""
        self._admit(function)
        if invocation_type == "DryRun":
            self._release(function)
            return b""
        result = self._run_admitted(function, event)
        if response_headers is not None:
            if result.function_error:
                response_headers["x-amz-function-error"] = result.function_error
            response_headers["x-amz-log-result"] = base64.b64encode(result.log_tail[-4096:].encode()).decode()
        return result.payload

    def _admit(self, function: Any) -> None:
        """Count the invocation in flight, or throttle it when reserved concurrency is used up."""
        name = function.function_name
        with self._lock:
            pool = self._pools.setdefault(name, _FunctionPool())
            reserved = function.reserved_concurrency
            if reserved is not None and pool.in_flight >= int(reserved):
                throttled = True
            else:
                pool.in_flight += 1
                throttled = False
        if throttled:
            self._count(name, {"Throttles": 1})
            raise Throttled()

    def _release(self, function: Any) -> None:
        with self._lock:
            pool = self._pools.get(function.function_name)
            if pool is not None:  # None: the runtime closed while this invocation ran
                pool.in_flight -= 1

    def _run_queued(self, function: Any, event: Any, release: Any) -> None:
        """An asynchronous invocation: on a function error Lambda retries it twice, a minute and then two
        minutes later (the function's MaximumRetryAttempts, when set), then drops the event or sends it to the
        on-failure destination. The clock flows while a retry waits."""
        try:
            result = self._run_admitted(function, event)
            retries = event_config(function).get("MaximumRetryAttempts", ASYNC_RETRIES)
            attempts = 1
            while result.function_error and attempts <= retries and not self._closed:
                release()
                failed_at = result.logged_at or self.clock.now()
                self.clock.wait_until(failed_at + datetime.timedelta(minutes=attempts),
                                      cancelled=lambda: self._closed)
                release = self.clock.hold_open()
                try:
                    self._admit(function)
                except Throttled:
                    continue  # a throttled retry is still an attempt: Lambda keeps the event only so long
                finally:
                    attempts += 1
                result = self._run_admitted(function, event)
            if result.function_error and not self._closed:
                self._on_failure(function, event, result, attempts)
        finally:
            release()

    def _on_failure(self, function: Any, event: Any, result: Invocation, attempts: int) -> None:
        """Send a failed asynchronous invocation's record to the function's on-failure destination."""
        destination = (event_config(function).get("DestinationConfig") or {}).get("OnFailure", {})
        arn = destination.get("Destination")
        if not arn:
            return  # no destination: the event is dropped, as Lambda drops it
        record = {"version": "1.0", "timestamp": self.clock.now().isoformat(),
                  "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": f"{function.function_arn}"
                                     ":$LATEST", "condition": "RetriesExhausted",
                                     "approximateInvokeCount": attempts},
                  "requestPayload": event,
                  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                      "functionError": result.function_error},
                  "responsePayload": json.loads(result.payload or b"null")}
        send_to_destination(self._session, self.endpoint_url, arn, json.dumps(record))

    def _run_admitted(self, function: Any, event: Any) -> Invocation:
        try:
            return self._run(function, event)
        finally:
            self._release(function)

    def _run(self, function: Any, event: Any) -> Invocation:
        with self.clock.hold():  # function work takes no simulated time
            return self._run_held(function, event)

    def _run_held(self, function: Any, event: Any) -> Invocation:
        container = self._container(function)
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        answer = self._exchange(container, event, request_id, float(function.timeout or 3))
        millis = (time.monotonic() - started) * 1000
        lines = _lines(container.notice + answer.get("init_output", ""))
        container.notice = ""
        lines.append(f"START RequestId: {request_id} Version: $LATEST")
        lines += _lines(answer.get("output", ""))
        lines.append(f"END RequestId: {request_id}")
        status = ""
        if answer.get("init_failed") or answer.get("errorType") == "Runtime.ExitError":
            status = f"\tStatus: error\tError Type: {answer['errorType']}"
        elif answer.get("errorType") == "Sandbox.Timedout":
            status = "\tStatus: timeout"
        lines.append(f"REPORT RequestId: {request_id}\tDuration: {millis:.2f} ms\tBilled Duration: "
                     f"{int(millis) + 1} ms\tMemory Size: {function.memory_size} MB\tMax Memory Used: 64 MB"
                     f"{status}")
        logged_at = self.clock.now()
        self._log(function, container, lines, logged_at)
        with self._lock:
            container.busy = False
        failed = not answer["ok"]
        self._count(function.function_name, {"Invocations": 1, "Errors": 1 if failed else 0},
                    duration=millis)
        tail = "\n".join(lines)
        if failed:
            error = {key: answer[key] for key in ("errorMessage", "errorType", "requestId", "stackTrace")
                     if key in answer}
            return Invocation(json.dumps(error).encode(), "Unhandled", tail, logged_at)
        return Invocation(answer["result"].encode(), None, tail, logged_at)

    def _exchange(self, container: _Container, event: Any, request_id: str, timeout: float) -> dict[str, Any]:
        """Send one invocation to a container and read its answer; a timed-out container is killed."""
        process = container.process
        assert process.stdin is not None and process.stdout is not None
        request = {"event": event, "request_id": request_id, "deadline": time.time() + timeout,
                   "now": self.clock.timestamp()}
        answer: dict[str, Any] = {}
        reader = threading.Thread(target=lambda: answer.update(self._read_answer(process)), daemon=True)
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
        except OSError:
            return {"ok": False, "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited"}
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            process.kill()
            return {"ok": False, "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                                    f"{timeout:.2f} seconds",
                    "output": f"{self.clock.now():%Y-%m-%dT%H:%M:%S}Z {request_id} Task timed out after "
                              f"{timeout:.2f} seconds"}
        return answer

    @staticmethod
    def _read_answer(process: subprocess.Popen[str]) -> dict[str, Any]:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            return {"ok": False, "errorType": "Runtime.ExitError",
                    "errorMessage": f"Runtime exited with error: exit status {process.poll()}"}
        loaded: dict[str, Any] = json.loads(line)
        return loaded

    # -- containers -----------------------------------------------------------------------------------------

    def _container(self, function: Any) -> _Container:
        """An idle warm container of the function's current configuration, or a new one."""
        fingerprint = _fingerprint(function)
        with self._lock:
            pool = self._pools.setdefault(function.function_name, _FunctionPool())
            stale = [c for c in pool.containers
                     if (c.fingerprint != fingerprint or c.process.poll() is not None) and not c.busy]
            for container in stale:
                pool.containers.remove(container)
                self._stop(container)
            for container in pool.containers:
                if not container.busy and container.fingerprint == fingerprint:
                    container.busy = True
                    return container
        container = self._start_container(function, fingerprint)
        with self._lock:
            if self._closed:  # closed while this container started: it must not outlive the world
                self._stop(container)
                raise RuntimeError("the function runtime is closed")
            container.busy = True
            pool.containers.append(container)
        return container

    def _start_container(self, function: Any, fingerprint: str) -> _Container:
        code_dir = self._code_dir(function)
        credentials = self._sts.assume_role(
            RoleArn=function.role, RoleSessionName=function.function_name[:64])["Credentials"]
        stream = f"{self.clock.now():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        env = {
            # The function's environment, as deployed, and the platform's own variables: nothing inherited.
            **{key: str(value) for key, value in function.environment_vars.items()},
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "DRSDOCTOR_SANDBOX_FUNCTION_ARN": function.function_arn,
        }
        executable, notice = interpreter_for(function.run_time)
        if executable != sys.executable:
            # Another interpreter finds the worker and the runtime's libraries (boto3) where this one does.
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        process = subprocess.Popen(
            [executable, "-m", "drsdoctor.sandbox.worker", str(code_dir), function.handler],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
            cwd=str(code_dir), start_new_session=True,
        )
        return _Container(fingerprint, process, stream, notice=notice)

    def _code_dir(self, function: Any) -> Path:
        """The function's deployment package, unpacked once per code version."""
        target = self._code_root / function.code_sha_256.replace("/", "_").replace("+", "-")
        with self._code_lock:
            if not target.exists():
                with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as package:
                    package.extractall(target)
        return target

    @staticmethod
    def _stop(container: _Container) -> None:
        process = container.process
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def prewarm(self, function: Any) -> None:
        """Start a container ahead of the first invocation (cold starts overlap with the world's setup)."""
        try:
            container = self._container(function)
        except Exception:
            if self._closed:
                return  # the world closed first: nothing to warm
            raise
        with self._lock:
            container.busy = False

    def worker_pids(self) -> list[int]:
        """Process ids of every live container (tests check they end with the sandbox)."""
        with self._lock:
            return [c.process.pid for pool in self._pools.values() for c in pool.containers
                    if c.process.poll() is None]

    def close(self) -> None:
        """Stop every container and the async queue."""
        self._closed = True
        # Cancelled work's clock holds die with the world.
        self._async.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            containers = [c for pool in self._pools.values() for c in pool.containers]
            self._pools.clear()
        for container in containers:
            self._stop(container)
        shutil.rmtree(self._code_root, ignore_errors=True)

    # -- logs and metrics -----------------------------------------------------------------------------------

    def _log(self, function: Any, container: _Container, lines: list[str],
             at: datetime.datetime | None = None) -> None:
        group = f"/aws/lambda/{function.function_name}"
        stamp = int((at or self.clock.now()).timestamp() * 1000)
        events = [{"timestamp": stamp, "message": line} for line in lines]
        put = {"logGroupName": group, "logStreamName": container.log_stream, "logEvents": events}
        try:
            self._logs.put_log_events(**put)
        except self._logs.exceptions.ResourceNotFoundException:
            # Lambda creates the group and the stream at the first invocation of a container.
            with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                self._logs.create_log_group(logGroupName=group)
            with contextlib.suppress(self._logs.exceptions.ResourceAlreadyExistsException):
                self._logs.create_log_stream(logGroupName=group, logStreamName=container.log_stream)
            self._logs.put_log_events(**put)

    def _count(self, function_name: str, counts: dict[str, int], duration: float | None = None) -> None:
        if self._closed:
            return
        dimensions = [{"Name": "FunctionName", "Value": function_name}]
        data: list[dict[str, Any]] = [
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count",
             "Timestamp": self.clock.now()} for name, value in counts.items()]
        if duration is not None:
            data.append({"MetricName": "Duration", "Dimensions": dimensions, "Value": duration,
                         "Unit": "Milliseconds", "Timestamp": self.clock.now()})
        self._cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data)
