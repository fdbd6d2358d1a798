"""A DRS simulator served on loopback, real boto3 clients against it, and a check of every raw response
against botocore's drs model (parsed responses drop unknown members, so the raw JSON is checked)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.config
import botocore.session
import pytest
from drs_shapes import DRS_MODEL, shape_problems
from werkzeug.serving import WSGIRequestHandler, make_server

from drsdoctor.sandbox.drs.model import DrsModel
from drsdoctor.sandbox.drs.wire import DrsWireApp
from tests.fakes import FakeClock

ACCOUNT = "123456789012"
class ShapeChecker:
    """Registered on a client: checks each raw response body against the operation's output/error shape."""

    def __init__(self) -> None:
        self.checked: Counter[str] = Counter()

    def __call__(self, http_response: Any, model: Any, **_: Any) -> None:
        body = json.loads(http_response.content or b"{}")
        if http_response.status_code >= 300:
            code = http_response.headers["x-amzn-ErrorType"]
            if code not in DRS_MODEL.shape_names:  # errors every service shares (authentication)
                assert code in ("UnrecognizedClientException", "MissingAuthenticationTokenException"), code
                assert set(body) <= {"message", "code"} and isinstance(body["message"], str)
                self.checked[model.name] += 1
                return
            shape = DRS_MODEL.shape_for(code)
        else:
            shape = model.output_shape
        found = shape_problems(shape, body) if shape is not None else [f"unexpected body {body}"] * bool(body)
        assert not found, f"{model.name} response breaks botocore's drs model: {found}"
        self.checked[model.name] += 1


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Test output stays readable without one line per request."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def model(clock: FakeClock) -> DrsModel:
    return DrsModel(region="us-east-1", account_id=ACCOUNT, now=clock)


@pytest.fixture
def serve() -> Iterator[Callable[[DrsWireApp], str]]:
    """Serve a wire app on a free loopback port; every server started is shut down after the test."""
    servers = []

    def start(app: DrsWireApp) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def checker() -> ShapeChecker:
    return ShapeChecker()


@pytest.fixture
def client_for(checker: ShapeChecker) -> Callable[..., Any]:
    def make(endpoint: str, access_key: str = "AKIAOPERATOR000000001") -> Any:
        # No retries: botocore would back off on the wall clock, and every error must reach the test.
        client = boto3.client("drs", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=access_key, aws_secret_access_key="x",
                              config=botocore.config.Config(retries={"total_max_attempts": 1}))
        client.meta.events.register("after-call.drs", checker)
        return client
    return make


@pytest.fixture
def endpoint(model: DrsModel, serve: Callable[[DrsWireApp], str]) -> str:
    return serve(DrsWireApp(model))


@pytest.fixture
def drs(endpoint: str, client_for: Callable[..., Any]) -> Any:
    """A boto3 drs client for an allow-all caller."""
    return client_for(endpoint)
