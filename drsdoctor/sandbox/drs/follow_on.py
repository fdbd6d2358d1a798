"""What DRS does with the caller's credentials after StartRecovery accepts a job, as (action, resource) pairs.

The action list is the IAM data's (drsdoctor/iam/drs_needs.yaml, `follow_on`), kept in one place for the
reference template, the checks and this simulator. When any pair is denied the job is still accepted,
then ends COMPLETED with every server FAILED.
"""

from __future__ import annotations

from drsdoctor.iam.drs_needs import follow_on_actions

# The instance profile role DRS passes to EC2 for recovery instances (created when DRS is initialised).
RECOVERY_INSTANCE_ROLE = "role/service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole"


def follow_on_requests(source_server_arns: list[str], account_id: str,
                       partition: str = "aws") -> list[tuple[str, str]]:
    """(action, resource) to authorise for one StartRecovery: drs actions on each source server, iam:PassRole
    on the recovery instance role, EC2 actions on "*" (DRS creates the instances, volumes and snapshots)."""
    pairs: list[tuple[str, str]] = []
    for action in follow_on_actions():
        if action.startswith("drs:"):
            pairs += [(action, arn) for arn in source_server_arns]
        elif action == "iam:PassRole":
            pairs.append((action, f"arn:{partition}:iam::{account_id}:{RECOVERY_INSTANCE_ROLE}"))
        else:
            pairs.append((action, "*"))
    return pairs
