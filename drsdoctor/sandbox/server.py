"""One HTTP endpoint on 127.0.0.1 for every service: DRS requests go to the DRS simulator, the rest to moto.

DRS requests are told apart by the service in their SigV4 credential scope (`.../drs/aws4_request`), so one
`endpoint_url` (or `AWS_ENDPOINT_URL`) serves an unmodified boto3 or AWS CLI. `GET /_sandbox/clock` answers
the world's simulated time ({"now": ISO 8601}); `POST /_sandbox/fault {"fault": NAME}` ("none" too) repairs
the injected fault and injects NAME, so one served world can stand for every scenario in turn (`GET` answers
the current fault). A Throttler (throttle.py) may answer a share of calls first. Every answer carries the
world's simulated time in a NOW_HEADER header, so a client learns the sandbox's "now" from the answers it
already gets, with no request of its own.
Connections are kept alive between requests, as AWS's are (werkzeug closes each one after its answer).
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from drsdoctor.sandbox.throttle import Throttler

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

CLOCK_PATH = "/_sandbox/clock"
NOW_HEADER = "x-drsdoctor-sandbox-now"  # drsdoctor.aws.stamp reads it from every answer
FAULT_PATH = "/_sandbox/fault"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def service_of(environ: dict[str, Any]) -> str | None:
    """The service named in a request's SigV4 credential scope, if it is signed."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


class Dispatcher:
    """The WSGI app: DRS to `drs_app`, everything else to moto's server app."""

    def __init__(self, drs_app: WSGIApp, is_drs: Callable[[dict[str, Any]], bool] | None = None,
                 now: Callable[[], Any] | None = None, throttle: Throttler | None = None,
                 switch_fault: Callable[[str], str | None] | None = None,
                 current_fault: Callable[[], str | None] | None = None,
                 gate: Callable[[dict[str, Any]], Any] | None = None) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.moto_app = DomainDispatcherApplication(create_backend_app)
        # which moto backend serves a host is fixed, but moto works it out anew for every request, listing
        # its own package's directories each time (a third of the sandbox's time answering diagnose)
        self.moto_app.get_backend_for_host = functools.lru_cache(maxsize=256)(  # type: ignore[method-assign]
            self.moto_app.get_backend_for_host)
        self.drs_app = drs_app
        self.is_drs = is_drs or (lambda environ: service_of(environ) == "drs")
        self.now = now
        self.throttle = throttle
        self.switch_fault, self.current_fault = switch_fault, current_fault
        self.gate = gate  # a refusal (status, headers, body) the sandbox answers itself, or None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.now is not None:
            start_response = _stamped(start_response, self.now)
        if environ.get("PATH_INFO") == CLOCK_PATH and self.now is not None:
            # The world's simulated "now", for tools that compare timestamps with the present.
            body = json.dumps({"now": self.now().isoformat()}).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == FAULT_PATH and self.switch_fault is not None:
            return self._fault(environ, start_response)
        throttled = self.throttle.answer(environ) if self.throttle is not None else None
        if throttled is not None:
            status, headers, body = throttled
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        if self.is_drs(environ):
            return self.drs_app(environ, start_response)
        refused = self.gate(environ) if self.gate is not None else None
        if refused is not None:
            status, headers, body = refused
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        return self.moto_app(environ, start_response)

    def _fault(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """GET: the injected fault; POST {"fault": NAME}: repair it, inject NAME ("none": only repair)."""
        from drsdoctor.errors import DrsdoctorError

        assert self.switch_fault is not None
        status, answer = "200 OK", {}
        try:
            if environ.get("REQUEST_METHOD") == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                asked = json.loads(environ["wsgi.input"].read(size) or b"{}").get("fault")
                if not isinstance(asked, str):
                    raise ValueError('the body must be {"fault": NAME} (NAME may be "none")')
                answer = {"fault": self.switch_fault(asked) or "none"}
            elif environ.get("REQUEST_METHOD") == "GET":
                answer = {"fault": (self.current_fault() if self.current_fault else None) or "none"}
            else:
                status, answer = "405 Method Not Allowed", {"message": "GET or POST"}
        except (ValueError, AttributeError, DrsdoctorError) as error:  # bad JSON, not an object, a bad name
            status, answer = "400 Bad Request", {"message": str(error)}
        body = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _stamped(start_response: Callable[..., Any], now: Callable[[], Any]) -> Callable[..., Any]:
    """`start_response` that adds the world's simulated time to the answer's headers."""

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, (NOW_HEADER, now().isoformat())], exc_info)

    return start


def _keep_alive_handler() -> type:
    """moto's request handler, answering each request in one write and keeping the connection open for the
    client's next request, as AWS does. werkzeug's own answer closes every connection (it cannot tell an
    unread body from the next request): each call paid for a new TCP connection and server thread, most of
    its cost to a client on this machine (2.4 ms of CPU a call against 1.9 ms kept alive)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class KeepAliveHandler(MotoRequestHandler):
        timeout = IDLE_SECONDS  # an idle connection's thread ends; the client's pool opens a new one
        disable_nagle_algorithm = True  # headers, then body: no 40 ms wait for an ACK between the two

        def log_error(self, format: str, *args: Any) -> None:
            if not format.startswith("Request timed out"):  # an idle connection closing is routine
                super().log_error(format, *args)

        def run_wsgi(self) -> None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                self.close_connection = True  # its end is known only once read: close after it, as werkzeug
            environ = self.make_environ()
            if not self.close_connection:  # the body read whole: what follows it is the next request
                environ["wsgi.input"] = io.BytesIO(self.rfile.read(int(environ.get("CONTENT_LENGTH") or 0)))
            answer: list[Any] = []

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                answer[:] = [status, headers]
                return body.append

            body: list[bytes] = []
            try:
                result = self.server.app(environ, start_response)
                try:
                    body.extend(result)
                finally:
                    getattr(result, "close", lambda: None)()
                status, headers = answer
            except Exception as error:  # werkzeug would answer 500 too; the client names the call that failed
                status, headers, body = "500 Internal Server Error", [], [f"{type(error).__name__}".encode()]
                self.close_connection = True
            data = b"".join(body)
            code, _, reason = status.partition(" ")
            self.send_response(int(code), reason)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if int(code) >= 200 and int(code) not in (204, 304):
                self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return KeepAliveHandler


IDLE_SECONDS = 30


class LoopbackServer:
    """A threaded werkzeug server on 127.0.0.1 in a background thread; port 0 picks a free port."""

    def __init__(self, app: WSGIApp, port: int = 0) -> None:
        if port:  # werkzeug would print its own message and exit: a busy port is an OSError here
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(("127.0.0.1", port))
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True,
                                                   request_handler=_keep_alive_handler())
        self.port = int(self._server.server_address[1])
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        # moto's Step Functions engine calls Lambda at http://localhost:$MOTO_PORT: that must be us.
        self._previous_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-http", daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._previous_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._previous_port
