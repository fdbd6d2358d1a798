"""--assume-role and --account-profile: credentials for the account where DRS runs (aws/accounts.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def account_options(function: F) -> F:
    """--assume-role ARN and --account-profile ACCOUNT=PROFILE, each repeatable."""
    function = click.option(
        "--account-profile", "account_profiles", multiple=True, metavar="ACCOUNT=PROFILE",
        help="Read account ACCOUNT (where DRS runs) with this named profile (repeatable).",
    )(function)
    return click.option(
        "--assume-role", "assume_roles", multiple=True, metavar="ARN",
        help="Read the account of this role (where DRS runs) with its credentials, from sts:AssumeRole "
             "(repeatable). Without it, drsdoctor tries the orchestrator's own role there.",
    )(function)


def account_settings(assume_roles: tuple[str, ...], account_profiles: tuple[str, ...]) -> dict[str, Any]:
    """The AwsSettings fields for these options; a malformed value is bad input (exit 2)."""
    from drsdoctor.aws.accounts import check_role_arns, parse_account_profiles

    return {"assume_roles": check_role_arns(tuple(value.strip() for value in assume_roles)),
            "account_profiles": tuple(parse_account_profiles(account_profiles).items())}
