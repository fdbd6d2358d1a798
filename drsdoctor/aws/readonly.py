"""The read-only guard: drsdoctor inspects, it never changes what it inspects.

Every client made by `drsdoctor.aws.session` refuses, before anything is sent (before its parameters are even
checked), an operation that is not in the one table of allowed actions (drsdoctor.aws.allowlist, the table
`drsdoctor permissions` prints). A name proves nothing: `GetSecretValue` reads a secret, cognito-identity's
`GetId` creates an identity, redshift's `GetClusterCredentials` can create a database user.
"""

from __future__ import annotations

from drsdoctor.aws.allowlist import allowed_actions
from drsdoctor.aws.failures import iam_action
from drsdoctor.errors import DrsdoctorError


class MutatingCallRefused(DrsdoctorError):
    """A call outside the table was about to be sent: a bug in drsdoctor, refused before the wire."""

    def __init__(self, service: str, operation: str) -> None:
        self.service, self.operation = service, operation
        super().__init__(f"refused to send {service}:{operation}: drsdoctor only makes the read-only AWS "
                         "calls `drsdoctor permissions` lists")


def is_read_operation(service: str, operation: str) -> bool:
    """True for an operation in the table of allowed actions (service is botocore's hyphenized service id,
    e.g. `sfn`, as the session and the call log name it)."""
    return iam_action(service, operation) in allowed_actions()
