"""The sandbox's plan size: bounded by DRS's and the orchestrator's limits, seeded in the tables' shape, and
refused in one line on the command line. No world is started: the seed runs against moto and the model."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from drsdoctor.errors import InputError
from drsdoctor.reference.functions import orchestration
from drsdoctor.sandbox.drs.model import DrsModel
from drsdoctor.sandbox.faults import LAUNCH_FAILURE_HOST
from drsdoctor.sandbox.seed import PLAN_ID, PlanSize, plan_layout, seed


@pytest.mark.parametrize(("waves", "servers", "problem"), [
    (0, 2, "--waves must be 1 to 10"),
    (11, 2, "--waves must be 1 to 10"),
    (3, 0, "--servers-per-wave must be 1 to 500"),
    (3, 501, "--servers-per-wave must be 1 to 500"),
    (10, 401, "4010 source servers; DRS holds at most 4000"),
])
def test_a_plan_drs_or_the_orchestrator_would_refuse_is_an_input_error(waves, servers, problem):
    with pytest.raises(InputError, match=problem):
        PlanSize(waves, servers)


@pytest.mark.parametrize(("waves", "servers"), [(1, 1), (10, 200), (10, 400), (8, 500)])
def test_plans_within_the_limits_are_accepted(waves, servers):
    _, _, layout = plan_layout(PlanSize(waves, servers))
    assert [len(hosts) for _, _, hosts in layout] == [servers] * waves
    assert len({group for _, group, _ in layout}) == waves
    assert len({host for _, _, hosts in layout for host in hosts}) == waves * servers


def test_the_launch_failure_fault_finds_its_server_in_a_large_plan():
    _, _, layout = plan_layout(PlanSize(10, 200))
    assert LAUNCH_FAILURE_HOST in layout[1][2]


@pytest.fixture
def tables():
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        for name, key in (("groups", "groupId"), ("plans", "planId")):
            dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                  AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                                  KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
        yield dynamodb


def test_a_large_plan_is_seeded_as_the_orchestrator_reads_it(tables):
    drs = DrsModel()
    [plan] = seed(drs, tables, "groups", "plans", size=PlanSize(10, 200))

    stored = tables.Table("plans").get_item(Key={"planId": plan.plan_id})["Item"]
    groups = {item["groupId"]: orchestration.plain(item) for item in tables.Table("groups").scan()["Items"]}
    waves = orchestration.build_waves(orchestration.plain(stored), groups)
    assert [len(wave["sourceServerIds"]) for wave in waves] == [200] * 10
    assert [wave["sourceServerIds"] for wave in waves] == [wave.source_server_ids for wave in plan.waves]
    assert len(drs.describe_source_servers(max_results=5000)[0]) == 1000  # a page; the rest follows
    assert drs.source_server(plan.server_of("edge-200")).hostname == "edge-200"


def test_without_a_size_the_three_tier_plan_is_seeded(tables):
    [plan] = seed(DrsModel(), tables, "groups", "plans")
    assert plan.plan_id == PLAN_ID
    assert [wave.hostnames for wave in plan.waves] == [["db-primary", "db-replica"], ["app-1", "app-2"],
                                                        ["web-1", "web-2"]]


@pytest.mark.parametrize("args", [["--waves", "11"], ["--servers-per-wave", "0"],
                                  ["--waves", "10", "--servers-per-wave", "401"]])
def test_serve_refuses_a_bad_plan_size_in_one_line(args):
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "sandbox", "serve", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("drsdoctor: ") and ("must be" in done.stderr or "at most" in done.stderr)
