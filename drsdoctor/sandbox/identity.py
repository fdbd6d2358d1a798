"""Who is calling the DRS simulator, and may they: moto's STS and IAM state, judged by drsdoctor's evaluator.

`identify` maps an access key to the role session it was issued for by sts:AssumeRole (each function's
worker gets such keys), named as AWS names the caller in AccessDenied:
`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. `authorize` reads the role's policies as they are now
(inline, attached managed, boundary), so detaching a policy or editing an inline one takes effect on the very
next call, and asks the IAM evaluator.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import unquote

from drsdoctor.iam.evaluate import PolicySet, Request, evaluate
from drsdoctor.iam.policy import Policy, parse_policy


def _document(text: Any) -> str:
    """moto keeps documents as given: JSON text, sometimes URL-encoded, sometimes already a mapping."""
    if isinstance(text, dict):
        return json.dumps(text, sort_keys=True)
    text = str(text)
    return unquote(text) if text.lstrip().startswith("%7B") else text


def role_arn_of(principal_arn: str) -> str:
    """The role behind a role session's ARN (assumed-role/ROLE/SESSION); any other ARN as it is."""
    if ":assumed-role/" not in principal_arn:
        return principal_arn
    prefix, _, rest = principal_arn.partition(":assumed-role/")
    partition_account = prefix.replace(":sts:", ":iam:", 1)
    return f"{partition_account}:role/{rest.split('/')[0]}"


def _account(arn: str) -> str:
    return "".join(arn.split(":")[4:5])


class SandboxIdentity:
    """identify/authorize callables for DrsWireApp over moto's in-process STS and IAM backends."""

    def __init__(self, account_id: str, region: str, partition: str = "aws") -> None:
        self.account_id, self.region, self.partition = account_id, region, partition
        self._parsed: dict[tuple[str, str, str], Policy] = {}
        self._lock = threading.Lock()

    def identify(self, access_key_id: str) -> str:
        """The role (or user) behind an access key; any other key is the account's root, as moto treats it."""
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        # moto issues a role's keys in the role's own account: a role of another account is that account's
        account = self.account_of(access_key_id)
        sts = sts_backends[account][self.partition]
        assumed = sts.get_assumed_role_from_access_key(access_key_id)
        if assumed is not None:
            return str(assumed.arn)
        try:
            user = iam_backends[account][self.partition].get_user_from_access_key_id(access_key_id)
        except Exception:  # moto raises its own not-found types here
            user = None
        return str(user.arn) if user is not None else f"arn:{self.partition}:iam::{account}:root"

    def account_of(self, access_key_id: str) -> str:
        """The account an access key belongs to (moto's mapping); the world's account for any other key."""
        from moto.iam.models import get_account_id_from

        found = get_account_id_from(access_key_id)
        return found if found in self._accounts() else self.account_id

    def _accounts(self) -> set[str]:
        from moto.iam.models import iam_backends

        return {self.account_id, *list(iam_backends.keys())}

    def authorize(self, principal_arn: str, action: str, resource: str,
                  request_context: dict[str, str | list[str]] | None = None) -> str:
        """The IAM decision (allowed, explicitDeny, implicitDeny) for the principal's current policies;
        `request_context`: keys the request carries besides the caller's (what DRS sends when it acts)."""
        if principal_arn.endswith(":root"):
            return "allowed"
        policies = self.policies_of(principal_arn)
        if policies is None:
            return "implicitDeny"
        context: dict[str, str | list[str]] = {"aws:RequestedRegion": self.region,
                                               "aws:PrincipalAccount": _account(principal_arn),
                                               "aws:PrincipalArn": role_arn_of(principal_arn),
                                               **(request_context or {})}
        if action.lower() == "iam:passrole":
            # DRS passes the recovery instance role to the instances it launches.
            context["iam:PassedToService"] = "ec2.amazonaws.com"
        return evaluate(policies, Request(action, resource, context, principal=principal_arn)).decision

    def policies_of(self, principal_arn: str) -> PolicySet | None:
        """The role's (or user's) policies as they stand in IAM right now."""
        from moto.iam.models import iam_backends

        role_arn = role_arn_of(principal_arn)
        backend = iam_backends[_account(role_arn) or self.account_id][self.partition]
        name = role_arn.rsplit("/", 1)[-1]
        try:
            holder: Any = backend.get_role(name) if ":role/" in role_arn else backend.get_user(name)
        except Exception:  # the role was deleted: nothing allows anything
            return None
        identity = [self._parse("inline", policy_name, document)
                    for policy_name, document in sorted(holder.policies.items())]
        for arn, managed in sorted(holder.managed_policies.items()):
            version = next(v for v in managed.versions if v.version_id == managed.default_version_id)
            identity.append(self._parse(arn, version.version_id, version.document))
        boundary = None
        boundary_arn = getattr(holder, "permissions_boundary", None)
        if boundary_arn:
            managed = backend.get_policy(boundary_arn)
            version = next(v for v in managed.versions if v.version_id == managed.default_version_id)
            boundary = self._parse(boundary_arn, version.version_id, version.document)
        return PolicySet(identity=identity, boundary=boundary)

    def _parse(self, source: str, name: str, document: Any) -> Policy:
        text = _document(document)
        key = (source, name, text)
        with self._lock:
            parsed = self._parsed.get(key)
            if parsed is None:
                parsed = self._parsed[key] = parse_policy(text, name=name)
            return parsed
