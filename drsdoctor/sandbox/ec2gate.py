"""Functions' EC2 reads judged by their role, as AWS judges them.

moto answers every call a function signs with its role's keys, so a function whose role lacks
ec2:DescribeInstances would read instances in the sandbox where AWS answers UnauthorizedOperation, and a run
stuck on that refusal could never be rehearsed. EC2's Describe actions take no resource (IAM judges them on
`*`), so the sandbox's own policy evaluator decides them exactly; other EC2 calls, the world's own clients and
the operator's (judged by moto under `authorize`) pass as before.
"""

from __future__ import annotations

import io
import urllib.parse
import uuid
from typing import Any

from drsdoctor.sandbox.drs.wire import credential_scope
from drsdoctor.sandbox.identity import SandboxIdentity

Answer = tuple[str, list[tuple[str, str]], bytes]


class Ec2Gate:
    def __init__(self, identity: SandboxIdentity) -> None:
        self.identity = identity

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        """EC2's UnauthorizedOperation for a function's Describe call its role does not allow, else None."""
        scope = credential_scope(environ)
        if scope is None or scope[2] != "ec2":
            return None
        principal = self.identity.identify(scope[0])
        if ":assumed-role/" not in principal:
            return None
        action = _action(environ)
        if not action.startswith("Describe"):
            return None
        decision = self.identity.authorize(principal, f"ec2:{action}", "*")
        if decision == "allowed":
            return None
        why = "with an explicit deny" if decision == "explicitDeny" else \
            f"because no identity-based policy allows the ec2:{action} action"
        message = (f"You are not authorized to perform this operation. User: {principal} is not authorized "
                   f"to perform: ec2:{action} {why}")
        request_id = str(uuid.uuid4())
        xml = (f"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>{message}</Message>"
               f"</Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return "403 Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()


def _action(environ: dict[str, Any]) -> str:
    """The query protocol's Action, from the form body (read once and put back for moto) or the query."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace")) or \
        urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
    return (fields.get("Action") or [""])[0]
