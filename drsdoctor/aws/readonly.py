"""The read-only guard: drsdoctor inspects, it never changes what it inspects.

Every client made by `drsdoctor.aws.session` refuses, before anything is sent, an operation that is not
a read. The rule is by operation name, the way IAM's own "read" access level is mostly spelled.
"""

from __future__ import annotations

from drsdoctor.errors import DrsdoctorError

READ_PREFIXES = ("Describe", "Get", "List", "BatchGet", "Query", "Scan", "Simulate", "Filter", "Lookup",
                 "Search", "Head")
# Reads by name that nonetheless change something: taking an activity task consumes it; the STS ones mint
# credentials, which an inspector has no business doing.
NOT_READS = frozenset({("sfn", "GetActivityTask"), ("sts", "GetSessionToken"), ("sts", "GetFederationToken")})


class MutatingCallRefused(DrsdoctorError):
    """A call that is not a read was about to be sent: a bug in drsdoctor, refused before the wire."""

    def __init__(self, service: str, operation: str) -> None:
        self.service, self.operation = service, operation
        super().__init__(f"refused to send {service}:{operation}: drsdoctor only makes read-only AWS calls")


def is_read_operation(service: str, operation: str) -> bool:
    """True for an operation that only reads (service is botocore's hyphenized service id, e.g. `sfn`)."""
    if (service, operation) in NOT_READS:
        return False
    return operation.startswith(READ_PREFIXES)

