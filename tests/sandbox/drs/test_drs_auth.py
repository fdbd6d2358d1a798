"""The caller's IAM, as DRS enforces it: on the call itself, and on what DRS then does as the caller."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from drsdoctor.iam.drs_needs import follow_on_actions
from drsdoctor.sandbox.drs.wire import DrsWireApp, is_drs_request

OPERATOR = "arn:aws:iam::123456789012:user/operator"
POLLER = "arn:aws:sts::123456789012:assumed-role/execution-poller/fn"
ORCHESTRATOR = "arn:aws:sts::123456789012:assumed-role/orchestration/fn"
KEYS = {"AKIAOPERATOR000000001": OPERATOR, "AKIAPOLLER00000000001": POLLER,
        "AKIAORCHESTRATOR00001": ORCHESTRATOR}


class Policies:
    """Which (principal, action) pairs are denied; records every question the simulator asks."""

    def __init__(self, denied: dict[str, set[str]], decision: str = "implicitDeny") -> None:
        self.denied, self.decision = denied, decision
        self.asked: list[tuple[str, str, str]] = []

    def __call__(self, principal: str, action: str, resource: str) -> str:
        self.asked.append((principal, action, resource))
        return self.decision if action in self.denied.get(principal, set()) else "allowed"


@pytest.fixture
def world(model, serve, client_for):
    def build(denied, decision="implicitDeny"):
        policies = Policies(denied, decision)
        endpoint = serve(DrsWireApp(model, identify=KEYS.get, authorize=policies))
        return policies, {name: client_for(endpoint, key) for key, name in
                          (("AKIAOPERATOR000000001", "operator"), ("AKIAPOLLER00000000001", "poller"),
                           ("AKIAORCHESTRATOR00001", "orchestrator"))}
    return build


def test_caller_lacking_describe_jobs_gets_access_denied(world):
    _, clients = world({POLLER: {"drs:DescribeJobs"}})
    with pytest.raises(ClientError) as caught:
        clients["poller"].describe_jobs(filters={"jobIDs": ["drsjob-00000000000000000"]})
    error = caught.value.response
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Error"]["Message"] == (
        f"User: {POLLER} is not authorized to perform: drs:DescribeJobs "
        "because no identity-based policy allows the drs:DescribeJobs action")
    assert clients["operator"].describe_jobs()["items"] == []


def test_explicit_deny_is_named_and_resource_level_actions_name_the_resource(world, model):
    _, clients = world({POLLER: {"drs:DescribeJobLogItems"}}, decision="explicitDeny")
    job_arn = model.arn("job", "drsjob-00000000000000000")
    with pytest.raises(ClientError) as caught:
        clients["poller"].describe_job_log_items(jobID="drsjob-00000000000000000")
    assert caught.value.response["Error"]["Message"] == (
        f"User: {POLLER} is not authorized to perform: drs:DescribeJobLogItems on resource: {job_arn} "
        "with an explicit deny in an identity-based policy")


def test_caller_lacking_start_recovery_starts_nothing(world, model):
    server = model.add_source_server("db01")
    _, clients = world({ORCHESTRATOR: {"drs:StartRecovery"}})
    with pytest.raises(ClientError) as caught:
        clients["orchestrator"].start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}])
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"on resource: {server.arn}" in caught.value.response["Error"]["Message"]
    assert clients["operator"].describe_jobs()["items"] == []


@pytest.mark.parametrize("missing", ["drs:CreateRecoveryInstanceForDrs", "ec2:CreateLaunchTemplateVersion",
                                     "ec2:RunInstances", "iam:PassRole"])
def test_missing_follow_on_action_ends_completed_with_every_server_failed(world, model, clock, missing):
    server = model.add_source_server("db01")
    _, clients = world({ORCHESTRATOR: {missing}})
    accepted = clients["orchestrator"].start_recovery(
        sourceServers=[{"sourceServerID": server.source_server_id}])
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202
    job_id = accepted["job"]["jobID"]
    clock.advance(30)
    [job] = clients["operator"].describe_jobs(filters={"jobIDs": [job_id]})["items"]
    assert job["status"] == "COMPLETED"
    assert [p["launchStatus"] for p in job["participatingServers"]] == ["FAILED"]
    log = clients["operator"].describe_job_log_items(jobID=job_id)["items"]
    assert [item["event"] for item in log] == ["JOB_START", "SNAPSHOT_START", "SNAPSHOT_END", "JOB_END"]
    assert clients["operator"].describe_recovery_instances()["items"] == []
    assert clients["operator"].describe_source_servers()["items"][0]["lastLaunchResult"] == "FAILED"


def test_every_server_fails_together_when_a_follow_on_action_is_missing(world, model, clock):
    servers = [model.add_source_server(f"app{i}") for i in range(3)]
    _, clients = world({ORCHESTRATOR: {"ec2:RunInstances"}})
    job = clients["orchestrator"].start_recovery(
        sourceServers=[{"sourceServerID": s.source_server_id} for s in servers])["job"]
    clock.advance(30)
    [done] = clients["operator"].describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert {p["launchStatus"] for p in done["participatingServers"]} == {"FAILED"}
    events = {i["event"] for i in clients["operator"].describe_job_log_items(jobID=job["jobID"])["items"]}
    assert events == {"JOB_START", "SNAPSHOT_START", "SNAPSHOT_END", "JOB_END"}


def test_follow_on_actions_are_asked_as_the_caller_on_the_right_resources(world, model):
    server = model.add_source_server("db01")
    policies, clients = world({})
    clients["orchestrator"].start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}])
    asked = {(action, resource) for who, action, resource in policies.asked if who == ORCHESTRATOR}
    assert ("drs:StartRecovery", server.arn) in asked
    assert ("drs:CreateRecoveryInstanceForDrs", server.arn) in asked
    assert ("ec2:RunInstances", f"arn:aws:ec2:{model.region}:{model.account_id}:instance/*") in asked
    assert ("ec2:DescribeInstances", "*") in asked  # no resource-level permissions
    assert ("iam:PassRole", "arn:aws:iam::123456789012:role/service-role/"
            "AWSElasticDisasterRecoveryRecoveryInstanceRole") in asked
    assert {action for action, _ in asked} == {"drs:StartRecovery", *follow_on_actions()}


def test_unknown_access_key_is_an_unrecognized_client(model, serve, client_for):
    drs = client_for(serve(DrsWireApp(model, identify=KEYS.get)), "AKIASOMEONEELSE000001")
    with pytest.raises(ClientError) as caught:
        drs.describe_jobs()
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(("environ", "expected"), [
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIA1/20260101/us-east-1/drs/aws4_request, "
                            "SignedHeaders=host, Signature=abc"}, True),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIA1/20260101/eu-west-1/states/aws4_request, "
                            "SignedHeaders=host, Signature=abc"}, False),
    ({"QUERY_STRING": "X-Amz-Credential=AKIA1%2F20260101%2Fus-east-1%2Fdrs%2Faws4_request&X-Amz-Signature=a"},
     True),
    ({"HTTP_AUTHORIZATION": "Bearer token"}, False),
    ({}, False),
])
def test_is_drs_request_reads_the_credential_scope(environ, expected):
    assert is_drs_request(environ) is expected
