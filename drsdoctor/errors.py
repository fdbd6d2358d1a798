"""The project's own error types: each carries the exit code the CLI turns it into."""

from __future__ import annotations

from drsdoctor import exitcodes


class DrsdoctorError(Exception):
    """Base of every error drsdoctor reports to the user as one line."""

    exit_code = exitcodes.INCOMPLETE


class InputError(DrsdoctorError):
    """Bad input from the user: a malformed ARN, an unreadable or invalid file."""

    exit_code = exitcodes.USAGE


class AwsCallError(DrsdoctorError):
    """An AWS call failed; the message names the call, the resource and the missing permission."""

    exit_code = exitcodes.INCOMPLETE

    def __init__(self, service: str, operation: str, resource: str, code: str, message: str,
                 permission: str | None = None) -> None:
        self.service, self.operation, self.resource = service, operation, resource
        self.code, self.permission = code, permission
        need = f" (needs {permission})" if permission else ""
        where = f" on {resource}" if resource else ""  # a call refused before it named one: no empty "on"
        super().__init__(f"{service}:{operation}{where} failed: {code}: {message}{need}")
