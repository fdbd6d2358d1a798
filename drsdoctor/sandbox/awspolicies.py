"""AWS's own managed policies in moto's IAM, and `ManagedPolicyArns` on a CloudFormation role (a patch of
motopatch.py).

moto knows AWS managed policies (arn:aws:iam::aws:policy/...) only when told to load all 1,500 of them at
every IAM reset (`iam.load_aws_managed_policies`, 0.7 s a world); otherwise attaching one fails
NoSuchEntity. Here a policy is loaded from moto's own copy the first time a call names it (attach, get,
versions, a permissions boundary). moto's CloudFormation ignores a role's `ManagedPolicyArns`: here they
are attached when the role is created, kept in step on update, and detached before it is deleted, as
CloudFormation does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

_AWS_POLICY = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/(?:.+/)?([^/]+)")
# The IAM backend's calls that name a policy by ARN: each may name an AWS managed one.
_NAMING_CALLS = ("attach_role_policy", "attach_user_policy", "attach_group_policy", "detach_role_policy",
                 "get_policy", "get_policy_version", "list_policy_versions", "put_role_permissions_boundary",
                 "create_role")


@functools.cache
def _catalogue() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    loaded: dict[str, Any] = json.loads(aws_managed_policies_data)
    return loaded


def ensure_loaded(backend: Any, arn: str) -> None:
    """Load the AWS managed policy `arn` names into the backend, if it is one moto knows and not yet there."""
    from moto.iam.models import AWSManagedPolicy

    match = _AWS_POLICY.fullmatch(arn)
    if match is None or arn in backend.managed_policies:
        return
    data = _catalogue().get(match.group(1))
    if data is None:
        return
    policy = AWSManagedPolicy.from_data(match.group(1), backend.account_id, backend.region_name, data)
    if policy.arn == arn:  # the path in the ARN is the policy's own
        backend.managed_policies[arn] = policy


def _loading(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, str) and value.startswith("arn:") and ":iam::aws:policy/" in value:
                ensure_loaded(self, value)
        return method(self, *args, **kwargs)

    return call


def _arns(cloudformation_json: dict[str, Any]) -> list[str]:
    return [str(arn) for arn in cloudformation_json.get("Properties", {}).get("ManagedPolicyArns") or []]


def patch(replace: Callable[[Any, str, Any], None]) -> None:
    from moto.iam.models import IAMBackend, Role, iam_backends
    from moto.utilities.utils import get_partition

    for name in _NAMING_CALLS:
        replace(IAMBackend, name, _loading(getattr(IAMBackend, name)))

    def backend_of(account_id: str, region_name: str) -> Any:
        return iam_backends[account_id][get_partition(region_name)]

    create, update, delete = (Role.create_from_cloudformation_json.__func__,  # type: ignore[attr-defined]
                              Role.update_from_cloudformation_json.__func__,  # type: ignore[attr-defined]
                              Role.delete_from_cloudformation_json.__func__)  # type: ignore[attr-defined]

    def create_role(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                    region_name: str, **kwargs: Any) -> Any:
        role = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        for arn in _arns(cloudformation_json):
            backend_of(account_id, region_name).attach_role_policy(arn, role.name)
        return role

    def update_role(cls: Any, original: Any, new_name: str, cloudformation_json: dict[str, Any],
                    account_id: str, region_name: str) -> Any:
        backend, wanted = backend_of(account_id, region_name), _arns(cloudformation_json)
        for arn in [arn for arn in original.managed_policies if arn not in wanted]:
            backend.detach_role_policy(arn, original.name)
        role = update(cls, original, new_name, cloudformation_json, account_id, region_name)
        for arn in wanted:
            if arn not in role.managed_policies:
                backend.attach_role_policy(arn, role.name)
        return role

    def delete_role(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                    region_name: str) -> None:
        backend = backend_of(account_id, region_name)
        role = next((r for r in backend.roles.values() if r.name == resource_name), None)
        for arn in list(role.managed_policies) if role is not None else []:
            backend.detach_role_policy(arn, resource_name)
        delete(cls, resource_name, cloudformation_json, account_id, region_name)

    replace(Role, "create_from_cloudformation_json", classmethod(create_role))
    replace(Role, "update_from_cloudformation_json", classmethod(update_role))
    replace(Role, "delete_from_cloudformation_json", classmethod(delete_role))
