"""Cross-account variants: the orchestrator in the sandbox's account, DRS in a second (recovery) account.

    reference-xaccount   the reference; its orchestration function and poller assume the recovery role
                         (their variable DRS_ROLE_ARN) for every DRS call
    selfpoll-xaccount    selfpoll; its launcher and probe assume the recovery role (RECOVERY_ROLE)

moto keeps accounts apart: keys issued by sts:AssumeRole for a role of the recovery account are that
account's (moto maps an access key to the account it was issued in), so the functions' DRS calls land in the
recovery account's DRS, where the plan's source servers are seeded. The recovery account holds:

    the recovery role      trusts the orchestrator's account; DRS's actions and the follow-on ones
    drsdoctor-readonly     trusts the orchestrator's account; what drsdoctor reads there (--assume-role)

Faults: the recovery role's trust policy drops the orchestrator's account; the recovery role loses
drs:StartRecovery; the poller asks DRS in another region than the one its jobs were started in.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from drsdoctor.sandbox.faults import Fault
from drsdoctor.sandbox.orchestrators.base import Names, Orchestrator

if TYPE_CHECKING:
    from drsdoctor.sandbox.seed import Plan, PlanSize
    from drsdoctor.sandbox.world import Sandbox

RECOVERY_ACCOUNT = "210987654321"
HOME_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"  # the account a broken trust policy names instead
OTHER_REGION = "us-west-2"  # where a misconfigured poller looks for the jobs
AUDITOR_ROLE = "drsdoctor-readonly"
ADMIN_ROLE = "sandbox-admin"  # the world's own way into the recovery account (never a role that exists)
ROLE_VARIABLE = {"reference": "DRS_ROLE_ARN", "selfpoll": "RECOVERY_ROLE"}
RECOVERY_ROLE = {"reference": "drs-orchestrator-sandbox-recovery", "selfpoll": "dr-waves-sandbox-recovery"}
DRS_POLLER = {"reference": "function:execution-poller", "selfpoll": "function:probe"}

RECOVERY_ACTIONS = ["drs:StartRecovery", "drs:CreateRecoveryInstanceForDrs", "drs:ListTagsForResource",
                    "drs:TagResource", "drs:DescribeJobs", "drs:DescribeJobLogItems",
                    "drs:DescribeSourceServers", "drs:DescribeRecoveryInstances", "ec2:*", "iam:PassRole"]
AUDITOR_ACTIONS = ["drs:DescribeJobs", "drs:DescribeJobLogItems", "drs:DescribeSourceServers",
                   "drs:DescribeRecoveryInstances", "iam:GetRole", "iam:ListRolePolicies",
                   "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:GetPolicy",
                   "iam:GetPolicyVersion"]


def role_arn(name: str, account: str = RECOVERY_ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def trust(account: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}]}


def allow(actions: list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}


def recovery_client(world: Sandbox, service: str) -> Any:
    """A client of the recovery account, for the world itself (the sandbox's key may assume any role)."""
    key = f"recovery:{service}"
    with world._clients_lock:
        client = world._clients.get(key)
    if client is None:
        credentials = world.client("sts").assume_role(RoleArn=role_arn(ADMIN_ROLE),
                                                      RoleSessionName="sandbox")["Credentials"]
        client = world.session().client(service, endpoint_url=world.endpoint_url,
                                        aws_access_key_id=credentials["AccessKeyId"],
                                        aws_secret_access_key=credentials["SecretAccessKey"],
                                        aws_session_token=credentials["SessionToken"])
        with world._clients_lock:
            world._clients[key] = client
    return client


def prepare_recovery_account(world: Sandbox, recovery_role: str) -> None:
    """The recovery role and drsdoctor's read-only role in the recovery account; DRS there holds the jobs."""
    iam = recovery_client(world, "iam")
    for name, actions in ((recovery_role, RECOVERY_ACTIONS), (AUDITOR_ROLE, AUDITOR_ACTIONS)):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust(world.account_id)))
        iam.put_role_policy(RoleName=name, PolicyName="recovery", PolicyDocument=json.dumps(allow(actions)))
    world.recovery_drs = world.drs_app.account(RECOVERY_ACCOUNT).model


# -- faults --------------------------------------------------------------------------------------------------

def _drop_trust(world: Sandbox) -> None:
    recovery_client(world, "iam").update_assume_role_policy(
        RoleName=world.names["role:recovery"], PolicyDocument=json.dumps(trust(OTHER_ACCOUNT)))


def _restore_trust(world: Sandbox) -> None:
    recovery_client(world, "iam").update_assume_role_policy(
        RoleName=world.names["role:recovery"], PolicyDocument=json.dumps(trust(world.account_id)))


def _recovery_policy(world: Sandbox, actions: list[str]) -> None:
    iam = recovery_client(world, "iam")
    iam.put_role_policy(RoleName=world.names["role:recovery"], PolicyName="recovery",
                        PolicyDocument=json.dumps(allow(actions)))


def _drop_start_recovery(world: Sandbox) -> None:
    _recovery_policy(world, [action for action in RECOVERY_ACTIONS if action != "drs:StartRecovery"])


def _restore_start_recovery(world: Sandbox) -> None:
    _recovery_policy(world, RECOVERY_ACTIONS)


def _set_poller_region(world: Sandbox, region: str | None) -> None:
    lam = world.client("lambda")
    name = world.names["function:drs-poller"]
    variables = dict(lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"])
    variable = world.names["env:DRS_REGION"]
    if region is None:
        region = world.saved.pop(f"env:{name}:{variable}", world.region)
    else:
        world.saved.setdefault(f"env:{name}:{variable}", variables[variable])
    variables[variable] = region
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


FAULTS = {fault.name: fault for fault in (
    Fault("recovery-trust-drops-account",
          f"the recovery role's trust policy names account {OTHER_ACCOUNT} instead of the orchestrator's",
          "the recovery role's trust policy does not let the orchestration role assume it "
          "(sts:AssumeRole AccessDenied)", "FAILED", _drop_trust, _restore_trust),
    Fault("recovery-role-missing-start-recovery",
          "the recovery role in the recovery account loses drs:StartRecovery",
          "the recovery role does not allow drs:StartRecovery", "FAILED",
          _drop_start_recovery, _restore_start_recovery),
    Fault("drs-polled-wrong-region",
          f"the poller asks DRS in {OTHER_REGION}, not in the region its jobs were started in",
          "DRS is polled in another region than the one the jobs run in", "STUCK",
          lambda world: _set_poller_region(world, OTHER_REGION),
          lambda world: _set_poller_region(world, None)),
)}


# -- the reference, cross-account ----------------------------------------------------------------------------

_REGION_LINE = '          DRS_REGION: !If [UseStackRegionForDrs, !Ref "AWS::Region", !Ref DrsRegion]\n'
_ASSUME = ("              - Sid: AssumeTheRecoveryRole\n                Effect: Allow\n"
           "                Action: sts:AssumeRole\n                Resource: !Ref RecoveryRoleArn\n")


def reference_template() -> str:
    """The reference's template with a RecoveryRoleArn parameter: the orchestration function and the poller
    get it as DRS_ROLE_ARN and may assume it."""
    from drsdoctor.reference import template_text

    text = template_text()
    text = text.replace("\nConditions:\n", "\n  RecoveryRoleArn:\n    Type: String\n    Description: The "
                        "role DRS is called with, in the recovery account.\n\nConditions:\n", 1)
    text = text.replace(_REGION_LINE, _REGION_LINE + "          DRS_ROLE_ARN: !Ref RecoveryRoleArn\n")
    for sid in ("              - Sid: StartWaves\n", "              - Sid: ReadJobsServersAndInstances\n"):
        text = text.replace(sid, _ASSUME + sid, 1)
    return text


_CLIENT = '    return boto3.client("drs", region_name=os.environ["DRS_REGION"], config=config)\n'
_ASSUMED_CLIENT = '''    # DRS runs in the recovery account: every call with the recovery role's credentials
    credentials = boto3.client("sts").assume_role(RoleArn=os.environ["DRS_ROLE_ARN"],
                                                  RoleSessionName="drs-orchestrator")["Credentials"]
    return boto3.client("drs", region_name=os.environ["DRS_REGION"], config=config,
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])
'''


def reference_code_zip() -> bytes:
    import io
    import zipfile

    from drsdoctor.reference import build_code_zip

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(build_code_zip())) as original, \
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in original.infolist():
            data = original.read(entry)
            if entry.filename == "drs_calls.py":
                data = data.decode().replace(_CLIENT, _ASSUMED_CLIENT).encode()
            archive.writestr(entry, data)
    return buffer.getvalue()


def _reference() -> Orchestrator:
    from drsdoctor.sandbox.orchestrators import reference as ref

    names = ref.reference_names()
    names.update({"role:recovery": RECOVERY_ROLE["reference"], "account:recovery": RECOVERY_ACCOUNT,
                  "function:drs-poller": names[DRS_POLLER["reference"]]})

    def seed(world: Sandbox, size: PlanSize | None) -> list[Plan]:
        from drsdoctor.sandbox.seed import seed as seed_records

        prepare_recovery_account(world, RECOVERY_ROLE["reference"])
        return seed_records(world.recovery_drs, world.resource("dynamodb"),
                            world.names["table:protection-groups"], world.names["table:recovery-plans"],
                            size=size)

    base = ref.reference_like(
        "reference-xaccount", "the reference with DRS in a second account: its orchestration function and "
        "poller assume a recovery role there", stack_name=ref.STACK_NAME, bucket=ref.CODE_BUCKET,
        template=reference_template, artifacts=lambda: {ref.CODE_KEY: reference_code_zip()},
        parameters={**ref.PARAMETERS, "RecoveryRoleArn": role_arn(RECOVERY_ROLE["reference"])}, names=names,
        faults=FAULTS)
    return dataclasses.replace(base, seed=seed)


# -- selfpoll, cross-account ---------------------------------------------------------------------------------

_RECOVERY_DRS = '''

def recovery_drs() -> Any:
    """DRS in the recovery account, with the recovery role's credentials (assumed at each invocation)."""
    credentials = boto3.client("sts").assume_role(RoleArn=os.environ["RECOVERY_ROLE"],
                                                  RoleSessionName="dr-waves")["Credentials"]
    return boto3.client("drs", region_name=ZONE, aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])
'''
_HANDLER_EDITS = {"launch.py": ("    drs = DRS\n", "    drs = recovery_drs()\n"),
                  "probe.py": ("    job = DRS.describe_jobs(", "    job = recovery_drs().describe_jobs("),
                  "mirror.py": ("    ledger, drs = LEDGER_TABLE, DRS\n",
                                "    ledger, drs = LEDGER_TABLE, recovery_drs()\n")}


def selfpoll_artifacts() -> dict[str, bytes]:
    import io
    import zipfile

    from drsdoctor.sandbox.orchestrators import selfpoll

    found = selfpoll.artifacts()
    role = role_arn(RECOVERY_ROLE["selfpoll"])
    functions = found[f"{selfpoll.ARTIFACT_PREFIX}/functions.yaml"].decode()
    for variable in ("          RECOVERY_ZONE: !If [ZoneIsHere, !Ref \"AWS::Region\", !Ref RecoveryZone]\n",):
        functions = functions.replace(variable, variable + f"          RECOVERY_ROLE: {role}\n")
    assume = (f"{' ' * 14}- Effect: Allow\n{' ' * 16}Action: sts:AssumeRole\n{' ' * 16}Resource: {role}\n")
    describe = f"{' ' * 16}Action: drs:DescribeJobs\n{' ' * 16}Resource: \"*\"\n"
    functions = functions.replace(describe, describe + assume)  # the probe's and the mirror's
    launch = f"{' ' * 14}- Effect: Allow\n{' ' * 16}Action: [drs:DescribeSourceServers, drs:StartRecovery,"
    functions = functions.replace(launch, assume + launch)
    found[f"{selfpoll.ARTIFACT_PREFIX}/functions.yaml"] = functions.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(found[selfpoll.CODE_KEY])) as original, \
            zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in original.infolist():
            text = original.read(entry).decode()
            before, after = _HANDLER_EDITS[entry.filename]
            archive.writestr(entry, text.replace(before, after) + _RECOVERY_DRS)
    found[selfpoll.CODE_KEY] = buffer.getvalue()
    return found


def _selfpoll() -> Orchestrator:
    from drsdoctor.sandbox.orchestrators import selfpoll

    def names(world: Sandbox) -> Names:
        found = selfpoll.names(world)
        found.update({"role:recovery": RECOVERY_ROLE["selfpoll"], "account:recovery": RECOVERY_ACCOUNT,
                      "function:drs-poller": found[DRS_POLLER["selfpoll"]]})
        return found

    def seed(world: Sandbox, size: PlanSize | None) -> list[Plan]:
        prepare_recovery_account(world, RECOVERY_ROLE["selfpoll"])
        home, world.drs = world.drs, world.recovery_drs  # selfpoll's seed tags the servers in world.drs
        try:
            return selfpoll.seed(world, size)
        finally:
            world.drs = home

    base = selfpoll.orchestrator()
    summary = "selfpoll with DRS in a second account: its launcher and probe assume a recovery role there"
    return dataclasses.replace(base, name="selfpoll-xaccount", summary=summary, artifacts=selfpoll_artifacts,
                               names=names, seed=seed, faults=FAULTS)


def orchestrator() -> Orchestrator:
    """`reference-xaccount`."""
    return _reference()


def selfpoll_orchestrator() -> Orchestrator:
    return _selfpoll()
