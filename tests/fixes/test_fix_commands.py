"""Each cause's fix is a command computed from the evidence, that the AWS CLI's own parser accepts, naming the
resources the finding is about; a launch failure's fix is about the cause the failure shows, never another."""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from drsdoctor.fixes import Remedy
from drsdoctor.snapshot import JobLogItem, JobServer, SourceServer, Stack, StackResource, StateMachine
from tests.checks.builders import (
    ACCOUNT,
    DEFINITION,
    NOW,
    REGION,
    SM_ARN,
    findings,
    fn_arn,
    healthy,
    stuck,
)
from tests.fixes.cli_parse import InvalidCommand, Parsed, parse

UP, DOWN = "s-0123456789abcdef0", "s-0fedcba9876543210"  # DRS ids: the CLI checks their length
STALLED = "Replication of the source server is stalled; no recent snapshot to launch from"


def remedy_of(check_id: str, snap: Any) -> Remedy:
    failing = [f for f in findings(check_id, snap) if f.status in ("fail", "warn")]
    assert failing, f"{check_id} found nothing: {findings(check_id, snap)}"
    remedy = failing[0].remedy
    assert remedy is not None, f"{check_id} ends in prose: {failing[0].remediation}"
    assert failing[0].remediation == remedy.line
    return remedy


def parsed(remedy: Remedy, folder: Path) -> list[Parsed]:
    """Every AWS command of the fix through the AWS CLI, its files written where the commands read them."""
    written = remedy.write(str(folder / "fixes"))
    found = []
    for command in written.commands:
        assert shlex.split(command.line) == list(command.argv), command.line  # pasted, it is this argv
        found.append(parse(command.argv))
    return found


def failed_launch(reason: str, replication: str = "") -> Any:
    snap = stuck()
    job = snap.drs_jobs[0]
    job.job_id = "drsjob-0123456789abcdef0"
    job.status, job.servers = "COMPLETED", [JobServer(UP, "LAUNCHED"), JobServer(DOWN, "FAILED")]
    snap.job_log_items = {job.job_id: [JobLogItem("JOB_START", NOW), JobLogItem(
        "LAUNCH_FAILED", NOW, {"sourceServerID": DOWN, "rawError": reason}), JobLogItem("JOB_END", NOW)]}
    if replication:
        snap.source_servers = [SourceServer(UP, replication_state="CONTINUOUS"),
                               SourceServer(DOWN, replication_state=replication)]
    return snap


# (what the launch failure says, the server's replication state, the operation that fixes that cause)
LAUNCH_CAUSES = [
    (STALLED, "", "drs", "RetryDataReplication"),
    ("Launch failed", "STALLED", "drs", "RetryDataReplication"),
    ("Launch failed", "STOPPED", "drs", "StartReplication"),
    ("User: arn:aws:sts::123456789012:assumed-role/drs-orchestration-role/x is not authorized to perform: "
     "ec2:RunInstances", "CONTINUOUS", "iam", "PutRolePolicy"),
    ("VcpuLimitExceeded: You have requested more vCPU capacity than your current vCPU limit", "CONTINUOUS",
     "service-quotas", "GetServiceQuota"),
    ("Invalid launch template: subnet subnet-0abc does not exist", "CONTINUOUS", "drs",
     "GetLaunchConfiguration"),
]


@pytest.mark.parametrize(("reason", "replication", "service", "operation"), LAUNCH_CAUSES)
def test_a_launch_failure_gets_the_command_for_the_cause_it_shows(reason: str, replication: str, service: str,
                                                                  operation: str, tmp_path: Path) -> None:
    snap = failed_launch(reason, replication)
    remedy = remedy_of("DRS002", snap)
    assert remedy_of("DRS001", snap) == remedy  # the failure event and the job's failed server: one fix
    (call,) = parsed(remedy, tmp_path)
    assert (call.service, call.operation) == (service, operation)
    if service == "drs" and operation != "GetLaunchConfiguration":
        assert call.params == {"sourceServerID": DOWN}  # the server that failed, not another
    if service == "iam":
        policy = json.loads(call.params["PolicyDocument"])
        assert call.params["RoleName"] == "drs-orchestration-role"
        assert [s["Action"] for s in policy["Statement"]] == [["ec2:RunInstances"]]


def test_a_stalled_server_is_never_told_to_fix_permissions(tmp_path: Path) -> None:
    remedy = remedy_of("DRS002", failed_launch(STALLED))
    assert "iam" not in remedy.line and "permission" not in remedy.note
    assert remedy.line == f"aws drs retry-data-replication --source-server-id {DOWN}"


def test_the_finder_rule_on_a_custom_bus_is_enabled_on_that_bus(tmp_path: Path) -> None:
    snap = stuck()
    snap.rules[0].state, snap.rules[0].event_bus = "DISABLED", "orchestration-bus"
    (call,) = parsed(remedy_of("EVT001", snap), tmp_path)
    assert (call.operation, call.params) == ("EnableRule", {"Name": "drs-execution-finder-schedule",
                                                            "EventBusName": "orchestration-bus"})


def test_a_missing_role_permission_is_granted_on_the_resource_it_was_decided_on(tmp_path: Path) -> None:
    snap = stuck()
    poller = snap.role_decisions[2]
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/drs-execution-history-prod"
    for decision in poller.decisions:
        if decision.action == "dynamodb:UpdateItem":
            decision.decision, decision.resource = "implicitDeny", table_arn
    (call,) = parsed(remedy_of("IAM002", snap), tmp_path)
    assert call.operation == "PutRolePolicy" and call.params["RoleName"] == "drs-poller-role"
    assert json.loads(call.params["PolicyDocument"])["Statement"] == [
        {"Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": table_arn}]


def test_a_function_throttled_to_zero_and_a_missing_index_get_their_commands(tmp_path: Path) -> None:
    snap = stuck()
    snap.functions[2].reserved_concurrency = 0
    (call,) = parsed(remedy_of("LMB003", snap), tmp_path)
    assert call.operation == "DeleteFunctionConcurrency"
    assert call.params == {"FunctionName": "drs-execution-poller"}
    snap = stuck()
    snap.functions[1].environment["STATUS_INDEX"] = "status-index"
    snap.tables[2].indexes = []
    (call,) = parsed(remedy_of("DDB003", snap), tmp_path)
    assert call.operation == "UpdateTable" and call.params["TableName"] == "drs-execution-history-prod"
    assert call.params["GlobalSecondaryIndexUpdates"][0]["Create"]["IndexName"] == "status-index"


def test_an_environment_fix_carries_every_variable_whole(tmp_path: Path) -> None:
    snap = stuck()
    poller = snap.functions[2]
    poller.environment = {**poller.environment, "EXECUTION_TABLE": "drs-execution-history-dev",
                          "NOTE": "it's \"quoted\" $(not run)"}
    (call,) = parsed(remedy_of("LMB001", snap), tmp_path)
    assert call.params["Environment"]["Variables"] == {**poller.environment,
                                                       "EXECUTION_TABLE": "drs-execution-history-prod"}


def test_a_secret_in_the_environment_is_never_printed_and_the_fix_still_parses(tmp_path: Path) -> None:
    snap = stuck()
    secret = "hunter2-correct-horse-battery-staple-9f8e7d"
    poller = snap.functions[2]
    poller.environment = {**poller.environment, "EXECUTION_TABLE": "drs-execution-history-dev",
                          "DB_PASSWORD": secret}
    remedy = remedy_of("LMB001", snap)
    read, update = remedy.commands
    assert all(secret not in text for text in (remedy.line, remedy.note, *read.argv, *update.argv))
    assert '.Variables["EXECUTION_TABLE"] = "drs-execution-history-prod"' in read.line
    assert parse(read.argv).operation == "GetFunctionConfiguration"
    # what the pipeline writes (jq's output), where the update reads it
    folder = tmp_path / "drsdoctor-fixes"
    folder.mkdir()
    (folder / "drs-execution-poller.environment.json").write_text(json.dumps(
        {"Variables": {**poller.environment, "EXECUTION_TABLE": "drs-execution-history-prod"}}))
    call = parse(update.argv, cwd=str(tmp_path))
    assert call.params["Environment"]["Variables"]["DB_PASSWORD"] == secret


def _drifted_with_template() -> Any:
    """The deployment's own template (a nested stack's, with ${...} for the function) and a drifted Choice."""
    template = {"Resources": {
        "Orchestration": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": {
            "Fn::Sub": json.dumps(DEFINITION).replace(json.dumps(fn_arn("drs-orchestration")),
                                                      '"${Orchestration.Arn}"')}}}}}
    drifted = copy.deepcopy(DEFINITION)
    drifted["States"]["WaveDone"]["Choices"][0]["StringEquals"] = "Completed"
    drifted["States"]["StartWave"]["Resource"] = fn_arn("drs-orchestration-v2")  # drift on a reference too
    snap = stuck(stack=Stack(name="drs-prod-Machine-1A2B", arn="arn:aws:cloudformation:stack/x",
                             template=json.dumps(template), resources=[
                                 StackResource("Machine", "AWS::StepFunctions::StateMachine", SM_ARN),
                                 StackResource("Orchestration", "AWS::Lambda::Function",
                                               "drs-orchestration")]))
    assert snap.state_machine is not None
    snap.state_machine.definition = json.dumps(drifted)
    return snap


def test_definition_drift_is_fixed_with_its_own_templates_definition(tmp_path: Path) -> None:
    snap = _drifted_with_template()
    remedy = remedy_of("SFN005", snap)
    (call,) = parsed(remedy, tmp_path)
    assert call.operation == "UpdateStateMachine" and call.params["stateMachineArn"] == SM_ARN
    assert json.loads(call.params["definition"]) == DEFINITION  # the template's, with the deployed ARNs
    assert "drs-prod-Machine-1A2B" in remedy.note
    # deployed as the fix says, the definition no longer drifts
    assert snap.state_machine is not None
    snap.state_machine.definition = call.params["definition"]
    assert {f.status for f in findings("SFN005", snap)} == {"pass"}


def test_definition_drift_without_a_template_names_the_file_and_why_it_is_missing() -> None:
    snap = _drifted_with_template()
    snap.stack.template = None
    snap.state_machine.definition = snap.state_machine.definition.replace('"COMPLETED"', '"DONE"')
    remedy = remedy_of("SFN005", snap) if any(
        f.status == "fail" for f in findings("SFN005", snap)) else None
    if remedy is None:  # no baseline at all: nothing to compare, nothing to fix
        assert {f.status for f in findings("SFN005", snap)} <= {"skip", "error"}
        return
    assert remedy.files == () and "drsdoctor-fixes/drs-orchestrator.asl.json" in remedy.line
    assert "template was not read" in remedy.note


def test_a_command_the_cli_would_refuse_is_refused() -> None:
    """The checker itself: a misspelt option, an unknown operation and a malformed parameter all fail."""
    for argv in (["aws", "events", "enable-rule", "--nam", "x"],
                 ["aws", "events", "enable-rules", "--name", "x"],
                 ["aws", "lambda", "update-function-configuration", "--function-name", "f", "--environment",
                  '{"Variable": {}}']):
        with pytest.raises(InvalidCommand):
            parse(argv)


def test_a_definition_that_differs_only_from_the_reference_is_never_fixed_with_the_references() -> None:
    from drsdoctor.checks.sfn_definition_drift import _reference_definition

    reference = _reference_definition()
    drifted = copy.deepcopy(reference)
    drifted["States"].popitem()
    # its own template holds the same definition: the deployment is as its template says
    template = {"Resources": {"Machine": {"Type": "AWS::StepFunctions::StateMachine",
                                          "Properties": {"DefinitionString": json.dumps(drifted)}}}}
    snap = healthy(state_machine=StateMachine(SM_ARN, definition=json.dumps(drifted)),
                   stack=Stack(name="drs-prod", template=json.dumps(template)))
    (failed,) = [f for f in findings("SFN005", snap) if f.status == "fail"]
    assert "reference" in failed.detail and failed.remedy is not None
    assert failed.remedy.files == ()  # no definition file: the reference's is not this deployment's
    assert failed.remediation == "drsdoctor diff-stacks reference drs-prod"
    assert "drs-prod's own template" in failed.remedy.note
