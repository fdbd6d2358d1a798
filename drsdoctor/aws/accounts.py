"""Sessions for another account: credentials from sts:AssumeRole or from a named profile.

A session made here is an AwsSession like the first: the same read-only guard on every client, the same call
log and audit trail, the same --timeout budget and clock. Only its credentials differ. The AssumeRole call
itself goes through the first session (guarded and logged like any other call).
"""

from __future__ import annotations

from drsdoctor.aws.failures import AwsFailure, failure_from
from drsdoctor.aws.session import AwsSession
from drsdoctor.errors import InputError

SESSION_NAME = "drsdoctor"


def assumed(home: AwsSession, role_arn: str) -> AwsSession:
    """A session with the credentials of `role_arn`, assumed with `home`'s. Raises AwsFailure (AccessDenied
    when the caller may not assume it or the role's trust policy does not name the caller)."""
    sts = home.client("sts")
    try:
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)
    except AwsFailure:
        raise
    except Exception as error:  # botocore raises many kinds; failure_from names them all
        raise failure_from(error, "sts", "AssumeRole", role_arn, "sts") from None
    return home.elsewhere(credentials=dict(answer["Credentials"]))


def from_profile(home: AwsSession, profile: str) -> AwsSession:
    """A session with a named profile's credentials. Raises InputError for a profile that does not exist."""
    return home.elsewhere(profile=profile)


def parse_account_profiles(values: tuple[str, ...]) -> dict[str, str]:
    """`--account-profile ACCOUNT=PROFILE` values -> {account: profile}; a malformed one is bad input."""
    found: dict[str, str] = {}
    for value in values:
        account, _, profile = value.partition("=")
        if not (account.isdigit() and len(account) == 12) or not profile:
            raise InputError(f"--account-profile {value!r}: expected ACCOUNT=PROFILE, ACCOUNT a 12-digit "
                             "account id")
        found[account] = profile
    return found


def check_role_arns(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--assume-role ARN` values: each a role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)."""
    for value in values:
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[4].isdigit() or not parts[5].startswith("role/"):
            raise InputError(f"--assume-role {value!r} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
    return values
