"""Every DRS operation's raw response keeps botocore's drs model, and the real `aws drs` CLI reads it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from drs_shapes import DRS_MODEL, shape_problems

SIMULATED = {"StartRecovery", "DescribeJobs", "DescribeJobLogItems", "DescribeSourceServers",
             "DescribeRecoveryInstances", "TerminateRecoveryInstances", "ListTagsForResource", "TagResource",
             "UntagResource"}


def test_every_operation_answers_in_its_output_shape(drs, model, clock, checker):
    healthy = model.add_source_server("db01", tags={"app": "erp"})
    stalled = model.add_source_server("db02", replication="STALLED", staging_account_id="210987654321")
    wave = [{"sourceServerID": healthy.source_server_id}, {"sourceServerID": stalled.source_server_id}]
    job = drs.start_recovery(isDrill=True, sourceServers=wave)["job"]
    for _ in range(8):  # read at every phase of the job, not only the end
        clock.advance(45)
        drs.describe_jobs()
        drs.describe_job_log_items(jobID=job["jobID"])
        drs.describe_source_servers()
        drs.describe_recovery_instances()
    [instance] = drs.describe_recovery_instances()["items"]
    drs.list_tags_for_resource(resourceArn=instance["arn"])
    drs.tag_resource(resourceArn=instance["arn"], tags={"wave": "1"})
    drs.untag_resource(resourceArn=instance["arn"], tagKeys=["wave"])
    drs.terminate_recovery_instances(recoveryInstanceIDs=[instance["recoveryInstanceID"]])
    clock.advance(60)
    drs.describe_jobs()
    assert set(checker.checked) == SIMULATED


@pytest.mark.parametrize(("body", "problem"), [
    ({"items": [{"jobID": "drsjob-0123456789abcdef0", "state": "DONE"}]}, "not in Job"),
    ({"items": [{"jobID": "drsjob-0123456789abcdef0", "status": "FINISHED"}]}, "enum"),
    ({"items": [{"jobID": "job-1"}]}, "does not match"),
    ({"items": [{"jobID": "drsjob-0123456789abcdef0", "creationDateTime": "2026-01-07 10:00:00"}]},
     "does not match"),
    ({"items": [{"arn": "arn:aws:drs:us-east-1:1:job/x"}]}, "jobID: required"),
    ({"items": {"jobID": "drsjob-0123456789abcdef0"}}, "expected list"),
])
def test_the_shape_check_catches_what_real_drs_would_never_send(body, problem):
    found = shape_problems(DRS_MODEL.operation_model("DescribeJobs").output_shape, body)
    assert any(problem in p for p in found), found


def test_aws_cli_describe_jobs_reads_the_simulator(drs, model, endpoint, clock):
    server = model.add_source_server("db01")
    job = drs.start_recovery(sourceServers=[{"sourceServerID": server.source_server_id}])["job"]
    clock.advance(600)
    aws = Path(sys.executable).with_name("aws")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_ACCESS_KEY_ID": "AKIAOPERATOR000000001",
           "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_PAGER": ""}
    done = subprocess.run([str(aws), "drs", "describe-jobs", "--endpoint-url", endpoint, "--output", "json"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    [listed] = json.loads(done.stdout)["items"]
    assert (listed["jobID"], listed["status"]) == (job["jobID"], "COMPLETED")
    assert listed["participatingServers"][0]["launchStatus"] == "LAUNCHED"
