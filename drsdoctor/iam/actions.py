"""Every IAM action of the services an orchestrator touches, for expanding wildcards like `drs:Describe*`.

The lists come from botocore's service models (an operation's name is its IAM action name for
these services), plus the permission-only actions that have no API operation, such as
`drs:CreateRecoveryInstanceForDrs` and `iam:PassRole`.
Sources: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
and https://docs.aws.amazon.com/drs/latest/userguide/drs-apis.html (DRS private APIs).
"""

from __future__ import annotations

from functools import cache

from drsdoctor.errors import InputError
from drsdoctor.iam.matching import action_match

# IAM service prefix -> botocore service model name
SERVICES: dict[str, str] = {
    "drs": "drs", "ec2": "ec2", "iam": "iam", "dynamodb": "dynamodb", "lambda": "lambda",
    "states": "stepfunctions", "events": "events", "logs": "logs",
}

# API operations whose IAM action has another name
_RENAMED: dict[str, dict[str, str]] = {
    "lambda": {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"},
}

# Permission-only actions: checked by IAM, never called as an API
_PERMISSION_ONLY: dict[str, tuple[str, ...]] = {
    "drs": (
        "AssociateFailbackClientToRecoveryInstanceForDrs", "BatchCreateVolumeSnapshotGroupForDrs",
        "BatchDeleteSnapshotRequestForDrs", "CreateConvertedSnapshotForDrs",
        "CreateRecoveryInstanceForDrs", "DescribeReplicationServerAssociationsForDrs",
        "DescribeSnapshotRequestsForDrs", "GetAgentCommandForDrs", "GetAgentConfirmedResumeInfoForDrs",
        "GetAgentInstallationAssetsForDrs", "GetAgentReplicationInfoForDrs",
        "GetAgentRuntimeConfigurationForDrs", "GetAgentSnapshotCreditsForDrs", "GetChannelCommandsForDrs",
        "GetFailbackCommandForDrs", "GetFailbackLaunchRequestedForDrs",
        "GetSuggestedFailbackClientDeviceMappingForDrs", "IssueAgentCertificateForDrs",
        "NotifyAgentAuthenticationForDrs", "NotifyAgentConnectedForDrs", "NotifyAgentDisconnectedForDrs",
        "NotifyAgentReplicationProgressForDrs", "NotifyConsistencyAttainedForDrs",
        "NotifyReplicationServerAuthenticationForDrs", "NotifyVolumeEventForDrs", "SendAgentLogsForDrs",
        "SendAgentMetricsForDrs", "SendChannelCommandResultForDrs", "SendClientLogsForDrs",
        "SendClientMetricsForDrs", "SendVolumeStatsForDrs", "UpdateAgentBacklogForDrs",
        "UpdateAgentConversionInfoForDrs", "UpdateAgentReplicationInfoForDrs",
        "UpdateAgentReplicationProcessStateForDrs", "UpdateAgentSourcePropertiesForDrs",
        "UpdateFailbackClientDeviceMappingForDrs", "UpdateFailbackClientLastSeenForDrs",
    ),
    "iam": ("PassRole",),
    "dynamodb": ("ConditionCheckItem", "PartiQLSelect", "PartiQLInsert", "PartiQLUpdate", "PartiQLDelete"),
    "lambda": ("InvokeFunctionUrl",),
    "states": ("InvokeHTTPEndpoint",),
}


@cache
def _actions(service: str) -> tuple[str, ...]:
    from botocore.loaders import Loader

    model = Loader().load_service_model(SERVICES[service], "service-2")
    renamed = _RENAMED.get(service, {})
    names = {renamed.get(operation, operation) for operation in model["operations"]}
    names.update(_PERMISSION_ONLY.get(service, ()))
    return tuple(sorted(f"{service}:{name}" for name in names))


def actions_for_service(service: str) -> list[str]:
    """All actions of one service as `service:Action`; InputError for a service we do not know."""
    prefix = service.lower()
    if prefix not in SERVICES:
        raise InputError(f"no action list for service {service!r} (known: {', '.join(sorted(SERVICES))})")
    return list(_actions(prefix))


def expand_action_pattern(pattern: str) -> set[str]:
    """The known actions an Action pattern covers: `drs:Describe*` -> {"drs:DescribeJobs", ...}.

    A pattern for a service outside SERVICES expands to nothing; `*` covers every known service.
    """
    if pattern == "*":
        return {action for service in SERVICES for action in _actions(service)}
    service, _, _name = pattern.partition(":")
    prefixes = [s for s in SERVICES if action_match(service, s)] if ("*" in service or "?" in service) \
        else [service.lower()] if service.lower() in SERVICES else []
    return {action for prefix in prefixes for action in _actions(prefix) if action_match(pattern, action)}
