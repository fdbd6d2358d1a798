"""Each function's deployed code, read (never run) to learn what it calls: GetFunction gives the package's
location (a presigned URL, valid minutes), fetched with one HTTP GET, size-limited, unzipped in memory.

The fetch is not an AWS operation: no client, no guard to consult; it is logged in the call log's
fetches and it honours the run's budget. A package is read once per run by its CodeSha256 (the
executions of `diagnose --running` share it, and so do functions deployed from one zip).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from drsdoctor.aws.calllog import CallRecord
from drsdoctor.aws.failures import AwsFailure
from drsdoctor.collect.gather import Gatherer
from drsdoctor.errors import InputError
from drsdoctor.snapshot import Function

MAX_PACKAGE_BYTES = 50 * 1024 * 1024  # Lambda's limit for a zip uploaded directly
CHUNK = 1024 * 1024
PYTHON = "python"


@dataclass
class Code:
    """What one function's code needs (drsdoctor.iam.code_needs.CodeReading), or why it could not be read."""

    function: str
    reading: Any = None  # CodeReading
    why_not: str = ""


def read(gather: Gatherer, function: Function) -> Code:
    """The needs of one function's code; `why_not` says why there are none to judge by."""
    if not function.runtime.lower().startswith(PYTHON):
        kind = function.runtime or "a container image"
        return Code(function.name, why_not=f"its code is {kind}, not Python: drsdoctor reads only Python")
    try:
        answer = gather.once(f"code location {function.arn or function.name}", lambda: gather.call(
            "lambda", "get_function", function.name, FunctionName=function.arn or function.name))
    except AwsFailure as failure:
        if failure.fatal:
            raise
        need = f" (needs {failure.needed_permission})" if failure.needed_permission else ""
        return Code(function.name, why_not=f"lambda:GetFunction failed: {failure.code}{need}")
    location = (answer.get("Code") or {}).get("Location")
    digest = (answer.get("Configuration") or {}).get("CodeSha256") or location or ""
    if not location:
        return Code(function.name, why_not="GetFunction gave no code location (a container image?)")
    try:
        sources = gather.once(f"code package {digest}", lambda: _sources(gather, location))
    except (OSError, InputError) as error:
        return Code(function.name, why_not=f"its package could not be read: {error}")
    return Code(function.name, gather.once(f"code needs {digest} {function.handler}",
                                           lambda: _needs(sources, function.handler)))


def _needs(sources: dict[str, str], handler: str) -> Any:
    from drsdoctor.iam.code_needs import needs_of

    return needs_of(sources, handler)


def _sources(gather: Gatherer, location: str) -> dict[str, str]:
    from drsdoctor.iam.code_needs import sources_of

    return sources_of(fetch(gather, location))


def fetch(gather: Gatherer, url: str, limit: int = MAX_PACKAGE_BYTES) -> bytes:
    """GET the package at `url`, at most `limit` bytes, within the run's budget; logged as https:GET."""
    session = gather.session
    parts = urlsplit(url)
    local = bool(session.settings.endpoint_url)  # a sandbox or a local endpoint may serve plain http
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
        raise InputError(f"a code location that is not an https URL ({parts.scheme or 'no scheme'})")
    timeout = session.settings.read_timeout
    if session.deadline is not None:
        left = session.deadline - session.clock.monotonic()
        if left <= 0:
            raise InputError("the --timeout budget ran out before the code was read")
        timeout = min(timeout, left)
    started, outcome = time.perf_counter(), "ok"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # the scheme is checked above
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                outcome = "TooLarge"
                raise InputError(f"the package is {declared} bytes, more than the {limit} drsdoctor reads")
            data = bytearray()
            while chunk := response.read(CHUNK):
                data += chunk
                if len(data) > limit:
                    outcome = "TooLarge"
                    raise InputError(f"the package is more than the {limit} bytes drsdoctor reads")
            return bytes(data)
    except urllib.error.HTTPError as error:
        outcome = str(error.code)
        raise OSError(f"GET of the code location answered HTTP {error.code}") from None
    except (OSError, ValueError) as error:
        outcome = type(error).__name__
        raise OSError(f"GET of the code location failed: {error}") from None
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        # the query string is the presigned signature: only the host and path are logged
        where = f"{parts.netloc}{parts.path}"
        session.call_log.fetched(CallRecord("https", "GET", elapsed, outcome, 0, where))
