"""AWS failures in the operator's words: which call, on what, and the permission that was missing."""

from __future__ import annotations

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

# What went wrong, in the collector's terms: denied, throttled, not_found, timeout, unreachable,
# no_credentials, invalid, other.


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
    if code in BAD_CREDENTIALS:
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

    permission = iam_action(service, operation, iam_prefix)
    if isinstance(error, AwsFailure):
        return error
    if isinstance(error, bx.ClientError):
        info: dict[str, Any] = error.response.get("Error", {})
        code = str(info.get("Code") or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
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
    if isinstance(error, (bx.ReadTimeoutError, bx.ConnectionClosedError)):
        return AwsFailure(service, operation, resource, type(error).__name__, str(error), permission,
                          "timeout")
    if isinstance(error, bx.ParamValidationError):
        return AwsFailure(service, operation, resource, "ParamValidation", str(error).replace("\n", " "),
                          permission, "invalid")
    return AwsFailure(service, operation, resource, type(error).__name__, str(error), permission, "other")
