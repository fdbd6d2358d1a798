"""DRS's wire contract: listings, filters, pagination, errors as botocore and raw HTTP see them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from drsdoctor.sandbox.drs.wire import DrsWireApp, throttle_share

SIGNED = ("AWS4-HMAC-SHA256 Credential=AKIAOPERATOR000000001/20260107/us-east-1/drs/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=0")


def raw(endpoint, path, body=None, method="POST", authorization=SIGNED):
    """A request as any HTTP client would send it: returns (status, headers, parsed body)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    request = urllib.request.Request(endpoint + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


def launch_jobs(drs, model, clock, count):
    ids = []
    for index in range(count):
        server = model.add_source_server(f"host{index:02d}")
        job = drs.start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}])["job"]
        ids.append(job["jobID"])
        clock.advance(60)
    return ids


@pytest.mark.parametrize("operation",
                         ["describe_jobs", "describe_source_servers", "describe_recovery_instances"])
def test_paginators_walk_every_item_once(drs, model, clock, operation):
    launch_jobs(drs, model, clock, 7)
    clock.advance(600)
    pages = list(drs.get_paginator(operation).paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert all("nextToken" not in p for p in pages[-1:])
    ids = [json.dumps(item, sort_keys=True) for p in pages for item in p["items"]]
    assert len(set(ids)) == 7


def test_describe_jobs_is_newest_first_and_paging_survives_new_jobs(drs, model, clock):
    ids = launch_jobs(drs, model, clock, 4)
    first = drs.describe_jobs(maxResults=2)
    assert [j["jobID"] for j in first["items"]] == ids[::-1][:2]
    launch_jobs(drs, model, clock, 1)
    rest = drs.describe_jobs(maxResults=5, nextToken=first["nextToken"])
    assert [j["jobID"] for j in rest["items"]] == ids[::-1][2:]


def test_job_log_items_paginate_in_log_order(drs, model, clock):
    [job_id] = launch_jobs(drs, model, clock, 1)
    clock.advance(600)
    whole = [i["event"] for i in drs.describe_job_log_items(jobID=job_id)["items"]]
    paged = [i["event"] for p in drs.get_paginator("describe_job_log_items").paginate(
        jobID=job_id, PaginationConfig={"PageSize": 2}) for i in p["items"]]
    assert paged == whole and len(whole) == 7


def test_describe_jobs_date_filters(drs, model, clock):
    ids = launch_jobs(drs, model, clock, 3)  # created 10:00, 10:01, 10:02
    found = drs.describe_jobs(filters={"fromDate": "2026-01-07T10:00:30Z",
                                       "toDate": "2026-01-07T10:01:30.5Z"})
    assert [j["jobID"] for j in found["items"]] == [ids[1]]


def test_filters_by_ids(drs, model, clock):
    ids = launch_jobs(drs, model, clock, 3)
    clock.advance(600)
    picked = drs.describe_jobs(filters={"jobIDs": [ids[0], ids[2]]})["items"]
    assert [j["jobID"] for j in picked] == [ids[2], ids[0]]
    assert len(drs.describe_jobs(filters={"jobIDs": []})["items"]) == 3
    servers = drs.describe_source_servers()["items"]
    target = servers[1]
    by_id = drs.describe_source_servers(filters={"sourceServerIDs": [target["sourceServerID"]]})["items"]
    assert [s["sourceServerID"] for s in by_id] == [target["sourceServerID"]]
    hardware = target["sourceProperties"]["identificationHints"]["awsInstanceID"]
    by_hardware = drs.describe_source_servers(filters={"hardwareId": hardware})["items"]
    assert [s["sourceServerID"] for s in by_hardware] == [target["sourceServerID"]]
    instances = drs.describe_recovery_instances(
        filters={"sourceServerIDs": [target["sourceServerID"]]})["items"]
    assert [i["sourceServerID"] for i in instances] == [target["sourceServerID"]]
    again = drs.describe_recovery_instances(
        filters={"recoveryInstanceIDs": [instances[0]["recoveryInstanceID"]]})
    assert again["items"] == instances


def test_staging_account_filter(drs, model):
    model.add_source_server("local")
    extended = model.add_source_server("extended", staging_account_id="210987654321")
    found = drs.describe_source_servers(filters={"stagingAccountIDs": ["210987654321"]})["items"]
    assert [s["sourceServerID"] for s in found] == [extended.source_server_id]
    assert found[0]["stagingArea"]["status"] == "EXTENDED"


def test_unknown_but_wellformed_ids_find_nothing(drs):
    unknown_job = "drsjob-00000000000000000"
    assert drs.describe_jobs(filters={"jobIDs": [unknown_job]})["items"] == []
    assert drs.describe_job_log_items(jobID=unknown_job)["items"] == []
    assert drs.describe_source_servers(filters={"sourceServerIDs": ["s-00000000000000000"]})["items"] == []


def test_malformed_job_id_is_a_validation_exception_naming_the_field(drs):
    with pytest.raises(ClientError) as caught:
        drs.describe_job_log_items(jobID="drsjob-!!!!!!!!!!!!!!!!!")  # right length, wrong pattern
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["reason"] == "fieldValidationFailed"
    assert error["fieldList"][0]["name"] == "jobID"


def test_unknown_recovery_instance_cannot_be_terminated(drs):
    with pytest.raises(ClientError) as caught:
        drs.terminate_recovery_instances(recoveryInstanceIDs=["i-0000000000000000a"])
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_errors_carry_the_type_header_and_message_code_body(endpoint):
    status, headers, body = raw(endpoint, "/DescribeJobLogItems", {"jobID": "nope"})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "ValidationException"
    assert body["code"] == "ValidationException" and "jobID" in body["message"]
    status, headers, body = raw(endpoint, "/DescribeJobs", None, authorization=None)
    assert (status, headers["x-amzn-ErrorType"]) == (403, "MissingAuthenticationTokenException")
    status, _, body = raw(endpoint, "/DescribeJobs", None)
    assert (status, body) == (200, {"items": []})
    status, headers, body = raw(endpoint, "/DescribeJobs", None, method="GET")
    assert (status, body["reason"]) == (400, "unknownOperation")


def test_bad_pagination_token_is_rejected(drs):
    with pytest.raises(ClientError) as caught:
        drs.describe_jobs(nextToken="not-a-token")
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_tags_round_trip_on_source_servers_and_jobs(drs, model):
    server = model.add_source_server("db01", tags={"app": "erp"})
    assert drs.list_tags_for_resource(resourceArn=server.arn)["tags"] == {"app": "erp"}
    drs.tag_resource(resourceArn=server.arn, tags={"wave": "1"})
    drs.untag_resource(resourceArn=server.arn, tagKeys=["app"])
    assert drs.list_tags_for_resource(resourceArn=server.arn)["tags"] == {"wave": "1"}
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}],
                             tags={"plan": "erp"})
    assert drs.list_tags_for_resource(resourceArn=job["job"]["arn"])["tags"] == {"plan": "erp"}
    with pytest.raises(ClientError) as caught:
        drs.list_tags_for_resource(
            resourceArn=server.arn.replace(server.source_server_id, "s-00000000000000000"))
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_throttled_calls_answer_429_with_retry_after(model, serve, client_for):
    drs = client_for(serve(DrsWireApp(model, throttle=lambda operation: operation == "DescribeJobs")))
    with pytest.raises(ClientError) as caught:
        drs.describe_jobs()
    response = caught.value.response
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    assert drs.describe_source_servers()["items"] == []


def outcomes(drs, calls):
    answers = []
    for _ in range(calls):
        try:
            drs.describe_jobs()
            answers.append("ok")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])
    return answers


def test_a_share_of_calls_is_throttled_the_same_way_for_the_same_seed(model, serve, client_for):
    first = outcomes(client_for(serve(DrsWireApp(model, throttle=throttle_share(0.3, seed=7)))), 60)
    again = outcomes(client_for(serve(DrsWireApp(model, throttle=throttle_share(0.3, seed=7)))), 60)
    assert first == again
    assert set(first) == {"ok", "ThrottlingException"}
    assert 8 <= first.count("ThrottlingException") <= 30


def test_uninitialized_account(drs, model):
    model.initialized = False
    with pytest.raises(ClientError) as caught:
        drs.describe_source_servers()
    assert caught.value.response["Error"]["Code"] == "UninitializedAccountException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_simulator_fault_answers_internal_server_exception(model, serve, client_for):
    def broken(_principal, _action, _resource):
        raise RuntimeError("policy store unreachable")

    drs = client_for(serve(DrsWireApp(model, authorize=broken)))
    with pytest.raises(ClientError) as caught:
        drs.describe_jobs()
    assert caught.value.response["Error"]["Code"] == "InternalServerException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "policy store unreachable" in caught.value.response["Error"]["Message"]
