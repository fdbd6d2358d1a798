"""What DRS does with the caller's credentials after StartRecovery accepts a job: (action, resource, context).

The action list is the IAM data's (drsdoctor/iam/drs_needs.yaml, `follow_on`), kept in one place for the
reference template, the checks and this simulator. DRS acts on the caller's behalf (a forward access
session), so each request carries what AWS adds then: `aws:ViaAWSService` true and `aws:CalledVia`
drs.amazonaws.com, and the tag DRS puts on what it creates and manages (AWSElasticDisasterRecoveryManaged,
as a request tag on a create, a resource tag after). EC2 actions are asked on the resource types they act on
(Service Authorization Reference), so a policy scoped as AWS's own AWSElasticDisasterRecoveryConsoleFullAccess
is (`arn:aws:ec2:*:*:instance/*` under those conditions) allows what it allows in AWS. When any request is
denied the job is still accepted, then ends COMPLETED with every server FAILED.
"""

from __future__ import annotations

from drsdoctor.iam.drs_needs import follow_on_actions

# The instance profile role DRS passes to EC2 for recovery instances (created when DRS is initialised).
RECOVERY_INSTANCE_ROLE = "role/service-role/AWSElasticDisasterRecoveryRecoveryInstanceRole"
MANAGED_TAG = "AWSElasticDisasterRecoveryManaged"
Context = dict[str, "str | list[str]"]

# The EC2 resource types each follow-on action is authorised on; an action not named here (Describe*,
# Get*) supports no resource-level permissions and is asked on "*".
_EC2_RESOURCES = {
    "RunInstances": ("instance", "volume", "subnet", "image", "network-interface", "security-group",
                     "launch-template"),
    "StartInstances": ("instance",), "StopInstances": ("instance",), "TerminateInstances": ("instance",),
    "ModifyInstanceAttribute": ("instance",),
    "CreateLaunchTemplate": ("launch-template",), "CreateLaunchTemplateVersion": ("launch-template",),
    "ModifyLaunchTemplate": ("launch-template",), "DeleteLaunchTemplateVersions": ("launch-template",),
    "CreateVolume": ("volume",), "DeleteVolume": ("volume",),
    "AttachVolume": ("instance", "volume"), "DetachVolume": ("instance", "volume"),
    "CreateSnapshot": ("volume", "snapshot"), "DeleteSnapshot": ("snapshot",),
    "CreateTags": ("instance",),
    "AuthorizeSecurityGroupIngress": ("security-group",), "AuthorizeSecurityGroupEgress": ("security-group",),
    "RevokeSecurityGroupEgress": ("security-group",),
}


def via_drs_context() -> Context:
    """The request context of an action DRS performs for its caller."""
    return {"aws:ViaAWSService": "true", "aws:CalledVia": ["drs.amazonaws.com"],
            f"aws:RequestTag/{MANAGED_TAG}": "drs.amazonaws.com",
            f"aws:ResourceTag/{MANAGED_TAG}": "drs.amazonaws.com",
            f"ec2:ResourceTag/{MANAGED_TAG}": "drs.amazonaws.com",
            "aws:TagKeys": [MANAGED_TAG], "ec2:CreateAction": "RunInstances"}


def follow_on_requests(source_server_arns: list[str], account_id: str, region: str = "us-east-1",
                       partition: str = "aws") -> list[tuple[str, str, Context]]:
    """(action, resource, context) to authorise for one StartRecovery: drs actions on each source server,
    iam:PassRole on the recovery instance role, EC2 actions on the resource types they act on."""
    context = via_drs_context()
    requests: list[tuple[str, str, Context]] = []
    for action in follow_on_actions():
        if action.startswith("drs:"):
            requests += [(action, arn, context) for arn in source_server_arns]
        elif action == "iam:PassRole":
            requests.append((action, f"arn:{partition}:iam::{account_id}:{RECOVERY_INSTANCE_ROLE}", context))
        elif action.startswith("ec2:") and action[4:] in _EC2_RESOURCES:
            requests += [(action, f"arn:{partition}:ec2:{region}:{account_id}:{kind}/*", context)
                         for kind in _EC2_RESOURCES[action[4:]]]
        else:
            requests.append((action, "*", context))
    return requests
