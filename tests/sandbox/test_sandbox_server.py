"""The sandbox's HTTP server keeps a client's connection open between requests, as AWS does, and still answers
every request on it whole: after a body the application never read, a chunked body, a failing application."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from drsdoctor.sandbox.server import LoopbackServer


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Echoes the path and, unless the path says not to, the body's length; /fail raises."""
    path = environ["PATH_INFO"]
    if path == "/fail":
        raise RuntimeError("the application failed")
    if path == "/unread":
        body = b"left the body unread"
    else:
        size = environ.get("CONTENT_LENGTH")
        read = environ["wsgi.input"].read(int(size)) if size else environ["wsgi.input"].read()
        body = f"{path} {len(read)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    started = LoopbackServer(app).start()
    yield started
    started.stop()


def ask(connection: http.client.HTTPConnection, method: str, path: str, body: Any = None,
        headers: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read(), response


def test_one_connection_answers_request_after_request(server: LoopbackServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    assert ask(connection, "POST", "/first", b"x" * 5000)[:2] == (200, b"/first 5000")
    opened = connection.sock
    assert ask(connection, "POST", "/unread", b"y" * 300)[:2] == (200, b"left the body unread")
    assert ask(connection, "GET", "/third")[:2] == (200, b"/third 0")  # the unread body was not read as it
    assert connection.sock is opened  # the same TCP connection throughout
    connection.close()


def test_a_chunked_body_is_read_and_its_connection_closed_after(server: LoopbackServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    # a body of unknown length: http.client sends it chunked
    status, body, response = ask(connection, "POST", "/chunked", iter([b"abc", b"defg"]))
    assert (status, body) == (200, b"/chunked 7")
    assert response.getheader("Connection") == "close"
    connection.close()


def test_a_failing_application_is_a_500_and_the_next_connection_still_works(server: LoopbackServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    status, body, response = ask(connection, "GET", "/fail")
    assert status == 500 and b"RuntimeError" in body and response.getheader("Connection") == "close"
    connection.close()
    again = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    assert ask(again, "GET", "/after")[:2] == (200, b"/after 0")
    again.close()
