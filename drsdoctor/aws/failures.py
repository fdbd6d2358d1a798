"""AWS failures in the operator's words: which call, on what, and the permission that was missing."""

from __future__ import annotations

import re
from typing import Any

from drsdoctor import exitcodes
from drsdoctor.errors import AwsCallError

# botocore service id -> IAM service prefix, where they differ.
IAM_PREFIX = {"sfn": "states", "cloudwatch-logs": "logs", "eventbridge": "events"}
# Operations whose IAM action is not named after the operation.
IAM_ACTION_OVERRIDES = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
}

DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
                    "AuthorizationError", "NotAuthorized", "Forbidden", "403"})
THROTTLED = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                       "RequestLimitExceeded", "ProvisionedThroughputExceededException", "SlowDown",
                       "RequestThrottled", "RequestThrottledException"})
NOT_FOUND_SUFFIXES = ("NotFound", "NotFoundException", "DoesNotExist", "NoSuchEntity",
                      "NoSuchEntityException", "ResourceNotFoundException", "404")
BAD_CREDENTIALS = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken",
                             "ExpiredTokenException", "InvalidSignatureException", "SignatureDoesNotMatch",
                             "AuthFailure"})

EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})

# botocore keeps what a before-parse handler adds to the parsed answer: the answer was an HTML page.
HTML_ERROR = "DrsdoctorHtmlAnswer"
# A fact not gathered because `--timeout` ran out (drsdoctor.aws.session.BudgetExhausted).
BUDGET_CODE = "RunTimeout"

# What went wrong, in the collector's terms: denied, throttled, not_found, timeout, unreachable,
# no_credentials, invalid, garbled (an answer that is not AWS's: a web page, broken JSON, cut short), other.


class UnusableAnswer(Exception):
    """An endpoint answered, but not as AWS answers (drsdoctor.aws.answers): `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def api_call(service: str, operation: str) -> str:
    """A call in the operator's words: `sfn`, `DescribeExecution` -> `states:DescribeExecution`."""
    return f"{IAM_PREFIX.get(service, service)}:{operation}"


def iam_action(service: str, operation: str, iam_prefix: str | None = None) -> str:
    """The IAM action a call needs: `sfn`, `DescribeExecution` -> `states:DescribeExecution`."""
    if (service, operation) in IAM_ACTION_OVERRIDES:
        return IAM_ACTION_OVERRIDES[(service, operation)]
    return f"{iam_prefix or IAM_PREFIX.get(service, service)}:{operation}"


def classify(code: str) -> str:
    """The kind of failure an AWS error code means."""
    if code in DENIED or "AccessDenied" in code:
        return "denied"
    if code in THROTTLED:
        return "throttled"
    if code in BAD_CREDENTIALS or code in EXPIRED:
        return "no_credentials"
    if code.endswith(NOT_FOUND_SUFFIXES):
        return "not_found"
    if code.startswith(("Validation", "InvalidParameter", "InvalidArn", "InvalidName")):
        return "invalid"
    return "other"


class AwsFailure(AwsCallError):
    """An AwsCallError that knows its kind, so the collector can tell a missing fact from a dead run."""

    def __init__(self, service: str, operation: str, resource: str, code: str, message: str,
                 permission: str | None = None, kind: str = "other") -> None:
        self.kind, self.message = kind, message
        # Only a denial names the permission: a throttle or a missing table is not fixed by granting one.
        named = permission if kind == "denied" else None
        super().__init__(service, operation, resource, code, message, named)
        self.needed_permission = permission

    def __str__(self) -> str:
        if self.kind in IN_WORDS:  # the kinds an operator fixes outside AWS's data: said as the fix
            return in_words(self)
        return super().__str__()

    @property
    def fatal(self) -> bool:
        """Nothing else can succeed either: no credentials at all, or nobody answering at the endpoint."""
        return isinstance(self, AwsUnavailable)


class AwsUnavailable(AwsFailure):
    """No credentials or an unreachable endpoint: the run cannot complete; said in one line."""

    exit_code = exitcodes.INCOMPLETE

    def __str__(self) -> str:
        if self.kind == "no_credentials":
            return (f"no usable AWS credentials ({self.code}: {self.message}); "
                    "set AWS_PROFILE or use --profile")
        return (f"cannot reach AWS for {self.service}:{self.operation} ({self.message}); "
                "check --endpoint-url, --region and the network")


def failure_from(error: BaseException, service: str, operation: str, resource: str,
                 iam_prefix: str | None = None) -> AwsFailure:
    """Turn whatever botocore raised into an AwsFailure naming the call, the resource and the permission."""
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    permission = iam_action(service, operation, iam_prefix)
    if isinstance(error, AwsFailure):
        return error
    if isinstance(error, bx.ClientError):
        info: dict[str, Any] = error.response.get("Error") or {}
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        if error.response.get(HTML_ERROR):  # a web server's error page: whatever answered, it was not AWS
            return AwsFailure(service, operation, resource, f"HTTP{status}",
                              f"the endpoint answered HTTP {status} (HTML)", permission, "garbled")
        code = str(info.get("Code") or status)
        message = str(info.get("Message") or code)
        # A service that rejects the key is answered per call: others may still accept it (a sandbox,
        # a service not enabled in the region), so it is a fact error, not the end of the run.
        return AwsFailure(service, operation, resource, code, message, permission, classify(code))
    if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound,
                          bx.NoRegionError)):
        kind = "no_credentials" if not isinstance(error, bx.NoRegionError) else "invalid"
        return AwsUnavailable(service, operation, resource, type(error).__name__, str(error), permission,
                              kind)
    if isinstance(error, (bx.ConnectTimeoutError, bx.EndpointConnectionError, bx.ProxyConnectionError)):
        return AwsUnavailable(service, operation, resource, type(error).__name__, str(error), permission,
                              "unreachable")
    if isinstance(error, bx.ReadTimeoutError):
        return AwsFailure(service, operation, resource, "ReadTimeout", f"no answer within {_seconds(error)}",
                          permission, "timeout")
    if isinstance(error, bx.ConnectionClosedError):
        return AwsFailure(service, operation, resource, type(error).__name__,
                          "the connection was closed before an answer came", permission, "timeout")
    if isinstance(error, UnusableAnswer):
        return AwsFailure(service, operation, resource, "NotAnAwsAnswer", error.reason, permission, "garbled")
    if isinstance(error, ResponseParserError):
        return AwsFailure(service, operation, resource, "NotAnAwsAnswer",
                          "its answer could not be read as AWS's", permission, "garbled")
    if isinstance(error, bx.ParamValidationError):
        return AwsFailure(service, operation, resource, "ParamValidation", str(error).replace("\n", " "),
                          permission, "invalid")
    return AwsFailure(service, operation, resource, type(error).__name__, str(error), permission, "other")


def _seconds(error: BaseException) -> str:
    """A read timeout's seconds, as the client was configured ("20 s"), or "the read timeout"."""
    timeout = getattr(getattr(error, "kwargs", {}).get("error"), "args", None)
    found = re.search(r"read timeout=([0-9.]+)", str(timeout or error))
    return f"{float(found.group(1)):g} s" if found else "the read timeout"


IN_WORDS = frozenset({"no_credentials", "denied", "throttled", "timeout", "garbled"})


def in_words(failure: AwsFailure, budget: float | None = None) -> str:
    """Why a call failed, in the operator's words and one line: what to do next follows from it.
    `budget`: the run's --timeout, named when it is what ran out."""
    call = api_call(failure.service, failure.operation)
    call += f" on {failure.resource}" if failure.resource else ""
    if failure.kind == "no_credentials":
        if isinstance(failure, AwsUnavailable):
            return AwsUnavailable.__str__(failure)
        if failure.code in EXPIRED:
            return f"credentials expired ({call} answered {failure.code}): refresh them and run again"
        return (f"credentials not valid for this endpoint ({call} answered {failure.code}: "
                f"{failure.message}); check --profile and --endpoint-url")
    if failure.kind == "denied":
        return f"AccessDenied: {call} is not allowed (needs {failure.needed_permission})"
    if failure.kind == "throttled":
        return f"throttled: {call} answered {failure.code} to every attempt; try again in a few minutes"
    if failure.kind == "timeout":
        if failure.code == BUDGET_CODE:
            budget = budget if budget is not None else getattr(failure, "budget", None)
            within = f"the {budget:g} s" if budget is not None else "the"
            after: AwsFailure | None = getattr(failure, "after", None)
            if after is not None:  # retried until the budget ran out: what it kept getting is the news
                same = (after.service, after.operation) == (failure.service, failure.operation)
                where = (failure.resource or after.resource) if same else after.resource
                last = AwsFailure(after.service, after.operation, where, after.code, after.message,
                                  after.needed_permission, after.kind)
                return f"{in_words(last)} (tried again until {within} --timeout ran out)"
            return f"no answer within {within} --timeout to {call}"
        return f"{failure.message} to {call}; check --endpoint-url and the network"
    if failure.kind == "garbled":
        if failure.code.startswith("HTTP"):
            return f"{failure.message} to {call}: not AWS's answer; check --endpoint-url"
        return f"not an AWS endpoint: {failure.message} to {call}; check --endpoint-url"
    return AwsCallError.__str__(failure)
