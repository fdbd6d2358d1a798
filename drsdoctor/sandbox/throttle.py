"""Throttling for the sandbox: answer a set share of outside clients' calls as the service itself would.

Each service answers in its own wire format, so botocore's retry logic (and any other SDK's) sees exactly
what AWS sends: JSON protocols (Step Functions, DynamoDB, EventBridge, Logs) a 400 with `x-amzn-ErrorType`
and {"__type", "message"}; REST-JSON (DRS, Lambda) a 429 with `x-amzn-ErrorType`, Lambda naming it
TooManyRequestsException; query protocols (IAM, STS, CloudFormation) an XML ErrorResponse with Code
Throttling; CloudWatch's RPCv2 CBOR a CBOR map; EC2 RequestLimitExceeded; S3 SlowDown.

Which calls are throttled is drawn from a seeded RNG keyed by the request itself (method, path, target, body,
not the caller's key, which moto makes anew for each user) and how many times that same request was sent, so a
run repeats whatever the order in which threads send and whoever sends.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

from drsdoctor.sandbox.drs.wire import credential_scope

Exempt = Callable[[str], bool]
Answer = tuple[str, list[tuple[str, str]], bytes]  # status line, headers, body
MESSAGE = "Rate exceeded"
_QUERY_XMLNS = {"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
                "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
                "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/"}


class Throttler:
    """Decides, per request, whether to answer with the service's throttling error; counts what it did."""

    def __init__(self, share: float = 0.0, seed: int = 0, exempt: Exempt | None = None) -> None:
        self.share, self.seed = check_share(share), seed
        self.exempt: Exempt = exempt or (lambda _key: False)
        self.seen = 0
        self.throttled = 0
        self._sent: dict[str, int] = {}
        self._lock = threading.Lock()

    def reseed(self, share: float, seed: int) -> None:
        """Throttle `share` of calls from now on, drawn from `seed` as if nothing had been sent before: a run
        repeats whatever ran earlier in the same world."""
        with self._lock:
            self.share, self.seed = check_share(share), seed
            self._sent.clear()

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        """The throttling answer for this request, or None to let it through."""
        if self.share <= 0.0:
            return None
        scope = credential_scope(environ)
        if scope is None or self.exempt(scope[0]):
            return None
        _access_key, _region, service = scope
        body = _body(environ)
        request = hashlib.sha256(b"\0".join([
            service.encode(), str(environ.get("REQUEST_METHOD", "")).encode(),
            str(environ.get("PATH_INFO", "")).encode(), str(environ.get("QUERY_STRING", "")).encode(),
            str(environ.get("HTTP_X_AMZ_TARGET", "")).encode(), body])).hexdigest()
        with self._lock:
            attempt = self._sent.get(request, 0)
            self._sent[request] = attempt + 1
            self.seen += 1
            throttle = random.Random(f"{self.seed}:{request}:{attempt}").random() < self.share
            if throttle:
                self.throttled += 1
        return throttle_answer(service, environ) if throttle else None


def check_share(share: float) -> float:
    """A share of calls to throttle: at least 0 and below 1 (every call throttled would never answer)."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"the share of calls to throttle must be at least 0 and below 1, not {share}")
    return share


def throttle_answer(service: str, environ: dict[str, Any]) -> Answer:
    """`service` (the SigV4 signing name)'s own throttling error, in the protocol the request used."""
    request_id = str(uuid.uuid4())
    content_type = str(environ.get("CONTENT_TYPE", ""))
    common = [("x-amzn-RequestId", request_id)]
    if "cbor" in content_type or environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return ("400 Bad Request", [*common, ("Content-Type", "application/cbor"),
                                    ("smithy-protocol", "rpc-v2-cbor")],
                _cbor_text_map({"__type": "ThrottlingException", "message": MESSAGE}))
    if content_type.startswith("application/x-amz-json"):
        body = json.dumps({"__type": "ThrottlingException", "message": MESSAGE}).encode()
        return ("400 Bad Request", [*common, ("Content-Type", content_type.split(";")[0]),
                                    ("x-amzn-ErrorType", "ThrottlingException")], body)
    if service == "ec2":
        xml = (f"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>{MESSAGE}</Message>"
               f"</Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return "503 Service Unavailable", [*common, ("Content-Type", "text/xml")], xml.encode()
    if service == "s3":
        xml = (f"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
               f"<RequestId>{request_id}</RequestId></Error>")
        return "503 Slow Down", [*common, ("Content-Type", "application/xml")], xml.encode()
    if content_type.startswith("application/x-www-form-urlencoded") or service in _QUERY_XMLNS:
        xmlns = _QUERY_XMLNS.get(service, f"https://{service}.amazonaws.com/doc/")
        xml = (f'<ErrorResponse xmlns="{xmlns}"><Error><Type>Sender</Type><Code>Throttling</Code>'
               f"<Message>{MESSAGE}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return "400 Bad Request", [*common, ("Content-Type", "text/xml")], xml.encode()
    # REST-JSON (DRS, Lambda): a 429, the error named in x-amzn-ErrorType.
    code = "TooManyRequestsException" if service == "lambda" else "ThrottlingException"
    members = {"Type": "User", "message": MESSAGE, "Reason": "CallerRateLimitExceeded"} \
        if service == "lambda" else {"message": MESSAGE}
    return ("429 Too Many Requests", [*common, ("Content-Type", "application/json"),
                                      ("x-amzn-ErrorType", code)], json.dumps(members).encode())


def _body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for the service behind."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def _cbor_text_map(items: dict[str, str]) -> bytes:
    """A CBOR map of short text strings (RFC 8949): all an RPCv2 CBOR error body needs."""
    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = bytearray(head(5, len(items)))
    for key, value in items.items():
        for text in (key.encode(), value.encode()):
            out += head(3, len(text)) + text
    return bytes(out)
