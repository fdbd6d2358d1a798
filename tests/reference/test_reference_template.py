"""The template: lint-clean, the names others rely on, least-privilege roles that grant every DRS need."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from cfnlint.api import ManualArgs, lint

from drsdoctor import reference
from drsdoctor.iam.drs_needs import needs_for
from drsdoctor.iam.evaluate import evaluate_all
from drsdoctor.iam.principal import load_role_from_template

ACCOUNT, REGION = "123456789012", "us-east-1"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
PREFIX = "drs-orchestrator-dev"
NAMES = {"partition": "aws", "region": REGION, "account": ACCOUNT,
         "plans_table": f"{PREFIX}-recovery-plans", "groups_table": f"{PREFIX}-protection-groups",
         "history_table": f"{PREFIX}-execution-history", "status_index": "StatusIndex",
         "poller_function": f"{PREFIX}-execution-poller", "function": f"{PREFIX}-orchestration"}
SOURCE_SERVER = f"arn:aws:drs:{REGION}:{ACCOUNT}:source-server/s-0a1b2c3d4e5f60001"
JOB = f"arn:aws:drs:{REGION}:{ACCOUNT}:job/drsjob-0a1b2c3d4e5f60001"
RECOVERY_INSTANCE_ROLE = (f"arn:aws:iam::{ACCOUNT}:role/service-role/"
                          "AWSElasticDisasterRecoveryRecoveryInstanceRole")
# Where DRS authorises an action that is not asked on "*" (Service Authorization Reference, resource types).
DRS_RESOURCES = {"drs:StartRecovery": SOURCE_SERVER, "drs:CreateRecoveryInstanceForDrs": SOURCE_SERVER,
                 "drs:ListTagsForResource": SOURCE_SERVER, "drs:DescribeJobLogItems": JOB,
                 "iam:PassRole": RECOVERY_INSTANCE_ROLE}
ROLES = {"orchestration": ("OrchestrationRole", "orchestration"),
         "finder": ("ExecutionFinderRole", "execution-finder"),
         "poller": ("ExecutionPollerRole", "execution-poller"),
         "statemachine": ("StateMachineRole", "orchestration")}


TABLES = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
FUNCTIONS = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def deployed_role(logical_id: str):
    """The role as the template deploys it with the default parameters, intrinsics resolved."""
    parameters = {**reference.DEFAULT_PARAMETERS, **PSEUDO}
    return load_role_from_template(reference.template(), logical_id, parameters)


def properties(logical_id: str) -> dict:
    return reference.template()["Resources"][logical_id]["Properties"]


def test_cfn_lint_reports_no_errors_or_warnings():
    matches = lint(reference.template_text(), config=ManualArgs(regions=[REGION]))
    assert [str(match) for match in matches] == []


@pytest.mark.parametrize(("logical_id", "name_property", "name"), [
    ("ProtectionGroupsTable", "TableName", "protection-groups"),
    ("RecoveryPlansTable", "TableName", "recovery-plans"),
    ("ExecutionHistoryTable", "TableName", "execution-history"),
    ("OrchestrationFunction", "FunctionName", "orchestration"),
    ("ExecutionFinderFunction", "FunctionName", "execution-finder"),
    ("ExecutionPollerFunction", "FunctionName", "execution-poller"),
    ("ExecutionFinderSchedule", "Name", "execution-finder-schedule"),
    ("RecoveryStateMachine", "StateMachineName", "recovery"),
])
def test_resources_carry_the_names_others_rely_on(logical_id, name_property, name):
    expected = {"Fn::Sub": f"drs-orchestrator-${{EnvironmentName}}-{name}"}
    assert properties(logical_id)[name_property] == expected


@pytest.mark.parametrize(("logical_id", "variables"), [
    ("OrchestrationFunction", {"ENVIRONMENT", "EXECUTION_TABLE", "PLANS_TABLE", "GROUPS_TABLE", "DRS_REGION",
                               "POLL_INTERVAL_SECONDS", "MAX_POLL_INTERVAL_SECONDS", "WAVE_TIMEOUT_MINUTES"}),
    ("ExecutionFinderFunction", {"ENVIRONMENT", "EXECUTION_TABLE", "STATUS_INDEX", "POLLER_FUNCTION"}),
    ("ExecutionPollerFunction", {"ENVIRONMENT", "EXECUTION_TABLE", "DRS_REGION"}),
])
def test_functions_get_their_configuration_from_the_environment(logical_id, variables):
    function = properties(logical_id)
    assert set(function["Environment"]["Variables"]) == variables
    assert function["Runtime"] == "python3.12"
    assert function["Handler"] == reference.HANDLERS[logical_id]
    assert function["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}


def test_the_status_index_and_schedule_are_wired_for_the_finder():
    index = properties("ExecutionHistoryTable")["GlobalSecondaryIndexes"][0]
    assert index["IndexName"] == "StatusIndex"
    assert index["KeySchema"] == [{"AttributeName": "status", "KeyType": "HASH"}]
    rule = properties("ExecutionFinderSchedule")
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["State"] == "ENABLED"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["ExecutionFinderFunction", "Arn"]}
    permission = properties("ExecutionFinderSchedulePermission")
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["ExecutionFinderSchedule", "Arn"]}


def test_outputs_name_every_resource_drsdoctor_looks_up():
    assert set(reference.template()["Outputs"]) >= {
        "StateMachineArn", "ProtectionGroupsTableName", "RecoveryPlansTableName", "ExecutionHistoryTableName",
        "FinderRuleName", "OrchestrationFunctionName", "ExecutionFinderFunctionName",
        "ExecutionPollerFunctionName"}


def test_the_state_machine_states_have_readable_names():
    definition = properties("RecoveryStateMachine")["DefinitionString"]["Fn::Sub"]
    for state in ("BeginPlan", "StartWave", "WaitForWave", "ReadWaveStatus", "CheckWaveStatus", "NextWave",
                  "CompletePlan", "WaveFailed", "WaveTimedOut", "PlanFailed"):
        assert f'"{state}": {{' in definition


@pytest.mark.parametrize("kind", list(ROLES))
def test_each_role_grants_every_need_of_its_kind(kind):
    logical_id, function = ROLES[kind]
    role = deployed_role(logical_id)
    missing = []
    for need in needs_for(kind):
        # the ARN the service really asks about; PassRole's need is a pattern, DRS passes one role
        resource = DRS_RESOURCES.get(need.action) or need.resource_for(NAMES)
        if need.action.startswith("logs:"):
            resource = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PREFIX}-{function}:*"
        context: dict[str, str | list[str]] = (
            {"iam:PassedToService": "ec2.amazonaws.com"} if need.action == "iam:PassRole" else {})
        decision = evaluate_all(role.policies, [need.action], resource or "*", context)[0]
        if not decision.allowed:
            missing.append(f"{need.action} on {resource}")
    assert missing == []


def test_pass_role_is_only_for_ec2():
    role = deployed_role("OrchestrationRole")
    to_ec2, to_lambda = (evaluate_all(role.policies, ["iam:PassRole"], RECOVERY_INSTANCE_ROLE,
                                      {"iam:PassedToService": service})[0]
                         for service in ("ec2.amazonaws.com", "lambda.amazonaws.com"))
    other_role = evaluate_all(role.policies, ["iam:PassRole"], f"arn:aws:iam::{ACCOUNT}:role/admin",
                              {"iam:PassedToService": "ec2.amazonaws.com"})[0]
    assert to_ec2.allowed and not to_lambda.allowed and not other_role.allowed


@pytest.mark.parametrize(("kind", "action", "resource"), [
    ("poller", "drs:StartRecovery", SOURCE_SERVER),
    ("finder", "lambda:InvokeFunction", f"{FUNCTIONS}:{PREFIX}-orchestration"),
    ("poller", "dynamodb:UpdateItem", f"{TABLES}/drs-orchestrator-prod-execution-history"),
    ("orchestration", "dynamodb:DeleteItem", f"{TABLES}/{PREFIX}-execution-history"),
    ("statemachine", "lambda:InvokeFunction", f"{FUNCTIONS}:{PREFIX}-execution-poller"),
])
def test_roles_grant_nothing_beyond_their_job(kind, action, resource):
    role = deployed_role(ROLES[kind][0])
    assert not evaluate_all(role.policies, [action], resource)[0].allowed


def test_a_drs_region_moves_the_drs_grants_with_it():
    parameters = {**reference.DEFAULT_PARAMETERS, **PSEUDO, "DrsRegion": "eu-west-1"}
    role = load_role_from_template(reference.template(), "OrchestrationRole", parameters)
    elsewhere = SOURCE_SERVER.replace(REGION, "eu-west-1")

    assert evaluate_all(role.policies, ["drs:StartRecovery"], elsewhere)[0].allowed
    assert not evaluate_all(role.policies, ["drs:StartRecovery"], SOURCE_SERVER)[0].allowed


def test_the_template_deploys_with_the_code_zip_from_s3(stack):
    lambda_client = boto3.client("lambda", region_name=REGION)
    digest = base64.b64encode(hashlib.sha256(reference.build_code_zip()).digest()).decode()
    for output in ("OrchestrationFunctionName", "ExecutionFinderFunctionName", "ExecutionPollerFunctionName"):
        configuration = lambda_client.get_function_configuration(FunctionName=stack.outputs[output])
        assert configuration["CodeSha256"] == digest
    assert stack.environments["OrchestrationFunction"]["DRS_REGION"] == REGION
    assert stack.environments["ExecutionFinderFunction"]["POLLER_FUNCTION"] == f"{PREFIX}-execution-poller"


@pytest.mark.parametrize("parameter", ["PollIntervalSeconds", "MaxPollIntervalSeconds", "WaveTimeoutMinutes"])
def test_loop_parameters_are_bounded(parameter):
    declared = reference.template()["Parameters"][parameter]
    assert declared["Type"] == "Number" and "MinValue" in declared and "MaxValue" in declared
