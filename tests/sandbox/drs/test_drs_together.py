"""The collector's group reads (drs.Together, `diagnose --running`) against the DRS simulator: one call per
kind for a whole group, and each execution gets exactly the part a call of its own would have answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from drsdoctor.aws import AwsSession, AwsSettings
from drsdoctor.collect import drs as collect_drs
from drsdoctor.collect.gather import Gatherer, Memo
from drsdoctor.snapshot import Snapshot

REGION = "us-east-1"


def launch(drs_client: Any, model: Any, clock: Any, count: int) -> list[tuple[str, str, Any]]:
    """`count` one-server jobs a minute apart: (job id, server id, when it was started)."""
    launched = []
    for index in range(count):
        server = model.add_source_server(f"together{index}").source_server_id
        started = clock()
        job = drs_client.start_recovery(sourceServers=[{"sourceServerID": server}])["job"]
        launched.append((job["jobID"], server, started))
        clock.advance(60)
    return launched


@pytest.fixture
def session(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> AwsSession:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOPERATOR000000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    return AwsSession(AwsSettings(endpoint_url=endpoint, region=REGION))


def gatherer(session: AwsSession, name: str) -> Gatherer:
    snap = Snapshot(target=name, region=REGION, account="123456789012")
    return Gatherer(session, snap, REGION, shared=Memo())


def test_a_group_asks_each_kind_once_and_each_execution_gets_its_own_part(
        drs: Any, model: Any, clock: Any, session: AwsSession) -> None:
    (job_a, server_a, _), (job_b, server_b, _), (job_c, server_c, _) = launch(drs, model, clock, 3)
    wanted = {"a": ([job_a], [server_a]), "b": ([job_b, job_c], [server_b, server_c])}
    together = collect_drs.Together()
    for jobs, servers in wanted.values():
        together.want("jobs", REGION, jobs)
        together.want("servers", REGION, servers)
        together.want("instances", REGION, servers)
    alone = AwsSession(session.settings)  # each execution asking on its own, for comparison
    for name, (jobs, servers) in wanted.items():
        grouped, own = gatherer(session, name), gatherer(alone, name)
        found = collect_drs.jobs(grouped, REGION, jobs, None, together)
        assert sorted(job.job_id for job in found) == sorted(jobs)
        assert found == collect_drs.jobs(own, REGION, jobs, None)  # what its own call answers, in its order
        found_servers = collect_drs.source_servers(grouped, REGION, servers, together)
        assert sorted(server.source_server_id for server in found_servers) == sorted(servers)
        assert found_servers == collect_drs.source_servers(own, REGION, servers)
        instances = collect_drs.recovery_instances(grouped, REGION, servers, together)
        assert instances == collect_drs.recovery_instances(own, REGION, servers)
    operations = [record.operation for record in session.call_log.records]
    assert sorted(operations) == ["DescribeJobs", "DescribeRecoveryInstances", "DescribeSourceServers"]
    assert len(alone.call_log.records) == 6  # one of each, per execution


def test_executions_that_name_no_job_share_one_read_of_the_jobs_since_the_earliest_start(
        drs: Any, model: Any, clock: Any, session: AwsSession) -> None:
    first, second, third = launch(drs, model, clock, 3)
    early, late = first[2] - timedelta(seconds=1), second[2]  # two executions: before every job; mid-way
    together = collect_drs.Together()
    for since in (early, late):
        together.want("jobs since", REGION, [collect_drs.stamp(since)])
    # the later one asks first: the group's read still starts at the earliest
    seen = {since: [job.job_id for job in collect_drs.jobs(gatherer(session, str(since)), REGION, [], since,
                                                           together)]
            for since in (late, early)}
    assert sorted(seen[early]) == sorted([first[0], second[0], third[0]])
    assert sorted(seen[late]) == sorted([second[0], third[0]])  # what its own call would have answered
    alone = collect_drs.jobs(gatherer(session, "alone"), REGION, [], late)
    assert sorted(job.job_id for job in alone) == sorted(seen[late])
    assert [record.operation for record in session.call_log.records] == ["DescribeJobs", "DescribeJobs"]


def test_ids_the_group_did_not_want_are_asked_for_on_their_own(
        drs: Any, model: Any, clock: Any, session: AwsSession) -> None:
    (wanted_job, _, _), (unwanted_job, _, _) = launch(drs, model, clock, 2)
    together = collect_drs.Together()
    together.want("jobs", REGION, [wanted_job])
    early = collect_drs.jobs(gatherer(session, "early"), REGION, [wanted_job], None, together)
    assert [job.job_id for job in early] == [wanted_job]
    late = collect_drs.jobs(gatherer(session, "late"), REGION, [unwanted_job], None, together)
    assert [job.job_id for job in late] == [unwanted_job]  # not missing from the group's answer
