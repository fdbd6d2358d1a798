"""One loopback HTTP server that answers every AWS request the way a broken or hostile endpoint would.

The mode is chosen per request by the first path segment of the endpoint URL (`http://127.0.0.1:PORT/drip`),
so one server serves every mode at once and the harness can run them in parallel. botocore keeps the path of
an `--endpoint-url` in front of each request's own path, so every service sees its mode.

Error answers are written in the protocol of the service asked (JSON with `__type`, rest-JSON with
`x-amzn-ErrorType`, query XML), as AWS writes them, so botocore parses the code as it would from AWS.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

HTML_500 = (b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
            b"<h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>")
WEB_PAGE = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><p>It works!</p></body></html>"
# A describe-execution-shaped answer, long enough that a drip of one byte a second outlasts any --timeout.
LONG_ANSWER = json.dumps({"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:m:e",
                          "status": "RUNNING", "padding": "x" * 4096}).encode()

# mode -> (AWS error code in JSON protocols, code in query protocols, HTTP status, message)
AWS_ERRORS = {
    "expired-token": ("ExpiredTokenException", "ExpiredToken", 400,
                      "The security token included in the request is expired"),
    "invalid-key": ("UnrecognizedClientException", "InvalidClientTokenId", 403,
                    "The security token included in the request is invalid."),
    "access-denied": ("AccessDeniedException", "AccessDenied", 403,
                      "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: {action} "
                      "because no identity-based policy allows the {action} action"),
    "throttled": ("ThrottlingException", "Throttling", 400, "Rate exceeded"),
}
# Modes that break the transport or the answer itself.
BROKEN = ("no-answer", "drip", "html-500", "malformed-json", "truncated", "reset-mid-body", "web-page")
MODES = (*BROKEN, *AWS_ERRORS)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostileServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the harness reads exit codes
        return

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
        self.server.count(mode)
        if mode == "no-answer":
            self.server.stopping.wait()  # the request was read; no byte ever comes back
            return
        if mode in AWS_ERRORS:
            self._aws_error(mode, body)
            return
        if mode == "html-500":
            self._send(500, "text/html", HTML_500)
        elif mode == "web-page":
            self._send(200, "text/html; charset=utf-8", WEB_PAGE)
        elif mode == "malformed-json":
            self._send(200, _content_type(self.headers), b'{"executionArn": "arn:aws:states:eu-west-1:1, "st')
        elif mode == "truncated":  # says 4 KB, sends 30 bytes, closes
            self._send(200, _content_type(self.headers), LONG_ANSWER[:30], length=len(LONG_ANSWER))
            self.close_connection = True
        elif mode == "reset-mid-body":  # half the body, then a TCP reset
            self._send(200, _content_type(self.headers), LONG_ANSWER[:200], length=len(LONG_ANSWER))
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif mode == "drip":
            self._drip()
        else:
            self._send(404, "text/plain", b"unknown hostile mode " + mode.encode())

    def _send(self, status: int, content_type: str, body: bytes, length: int | None = None,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", _content_type(self.headers))
        self.send_header("Content-Length", str(len(LONG_ANSWER)))
        self.end_headers()
        self.wfile.flush()
        for index in range(len(LONG_ANSWER)):
            if self.server.stopping.wait(1.0):
                return
            try:
                self.wfile.write(LONG_ANSWER[index:index + 1])
                self.wfile.flush()
            except OSError:  # the client gave up: as it should
                return

    def _aws_error(self, mode: str, body: bytes) -> None:
        json_code, query_code, status, message = AWS_ERRORS[mode]
        target = self.headers.get("X-Amz-Target", "")
        if target:  # JSON protocol (Step Functions, DynamoDB, Logs, EventBridge)
            service = target.split("_", 1)[0].split(".")[0].lower()
            action = f"{_prefix(service)}:{target.rsplit('.', 1)[-1]}"
            answer = json.dumps({"__type": json_code, "message": message.format(action=action)}).encode()
            self._send(status, "application/x-amz-json-1.0", answer)
        elif b"Action=" in body:  # query protocol (IAM, CloudFormation, STS)
            operation = parse_qs(body.decode()).get("Action", ["?"])[0]
            action = f"{_scope_service(self.headers)}:{operation}"
            answer = (f'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender'
                      f"</Type><Code>{query_code}</Code><Message>{message.format(action=action)}</Message>"
                      "</Error><RequestId>4f4b2a7c</RequestId></ErrorResponse>").encode()
            self._send(status, "text/xml", answer)
        else:  # rest-JSON (Lambda, DRS)
            action = f"{_scope_service(self.headers)}:request"
            answer = json.dumps({"message": message.format(action=action)}).encode()
            self._send(status, "application/json", answer, headers={"x-amzn-ErrorType": json_code})


def _content_type(headers: Any) -> str:
    return "application/x-amz-json-1.0" if headers.get("X-Amz-Target") else "application/json"


def _prefix(target_service: str) -> str:
    return {"awsstepfunctions": "states", "dynamodb": "dynamodb", "logs": "logs",
            "awsevents": "events"}.get(target_service, target_service)


def _scope_service(headers: Any) -> str:
    """The service named in the request's SigV4 credential scope."""
    authorization = headers.get("Authorization", "")
    parts = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return parts[3] if len(parts) > 3 else "?"


class HostileServer(ThreadingHTTPServer):
    """Serves every mode on 127.0.0.1 at once; `url(mode)` is the endpoint for one mode."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.stopping = threading.Event()
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="hostile-http", daemon=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that gave up and hung up is what the modes are for

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{mode}"

    def count(self, mode: str) -> None:
        with self._lock:
            self.requests[mode] = self.requests.get(mode, 0) + 1

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


if __name__ == "__main__":  # serve by hand: python -m tests.hostile.server
    with HostileServer() as served:
        for name in MODES:
            print(served.url(name))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
