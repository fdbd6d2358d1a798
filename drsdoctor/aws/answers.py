"""Answers that are not AWS's, told apart before botocore parses them.

botocore reads a web page, a JSON body cut short or one that is not JSON at all as an empty answer (`{}`) to
a JSON-protocol call: a collector would then take "no such field" for a fact. This handler, on every
client's `before-parse`, refuses such an answer (UnusableAnswer: a fact error naming the call) and marks an
HTML error page, so the failure says "HTTP 500 (HTML)" rather than an empty error code.
"""

from __future__ import annotations

import json
from typing import Any

from drsdoctor.aws.failures import HTML_ERROR, UnusableAnswer

JSON_PROTOCOLS = frozenset({"json", "rest-json"})


def check_answer(operation_model: Any, response_dict: dict[str, Any],
                 customized_response_dict: dict[str, Any], **_: Any) -> None:
    """Raise UnusableAnswer for an answer that is not AWS's; mark an HTML error page."""
    body = response_dict.get("body")
    if (operation_model.has_streaming_output or not isinstance(body, bytes)
            or operation_model.http.get("method") == "HEAD"):  # HEAD: a length, never a body
        return
    headers = response_dict.get("headers") or {}
    declared = str(headers.get("content-length") or headers.get("Content-Length") or "")
    if declared.isdigit() and len(body) < int(declared):
        raise UnusableAnswer(f"the answer was cut short ({len(body)} of {declared} bytes)")
    page = _is_web_page(body)
    if int(response_dict.get("status_code", 200)) >= 300:
        if page:
            customized_response_dict[HTML_ERROR] = True
        return
    if page:
        raise UnusableAnswer("it answered a web page (HTML)")
    protocol = operation_model.service_model.resolved_protocol
    if protocol in JSON_PROTOCOLS and body.strip() and not _payload(operation_model):
        try:
            parsed = json.loads(body)
        except ValueError:
            raise UnusableAnswer("its answer is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise UnusableAnswer("its answer is JSON but not an object")


def _is_web_page(body: bytes) -> bool:
    start = body[:64].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


def _payload(operation_model: Any) -> bool:
    """Whether the answer's body is one member as it is (a blob, a string), not a JSON document."""
    shape = operation_model.output_shape
    if shape is None:
        return False
    member = shape.serialization.get("payload")
    return bool(member) and shape.members[member].type_name != "structure"
