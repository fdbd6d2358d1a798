"""A large plan end to end: 3 waves of 200 source servers run by the reference orchestrator in the sandbox,
one server failing to launch (the server-launch-failure fault), and diagnose naming that server among 600.
(10 waves of 200 is benchmarks/bench_scale.py's: it runs for minutes here, this for seconds.)"""

from __future__ import annotations

import pytest

from drsdoctor.commands.diagnose import diagnose_execution
from drsdoctor.sandbox.faults import LAUNCH_FAILURE_HOST
from drsdoctor.sandbox.seed import PlanSize
from drsdoctor.sandbox.world import Sandbox
from tests.diagnose.conftest import create_operator, operator_session, root_cause_text

pytestmark = pytest.mark.slow


def test_a_server_failing_among_600_is_named_as_the_root_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox.start(fault="server-launch-failure", plan=PlanSize(3, 200)) as world:
        plan = world.plans[0]
        failing = plan.server_of(LAUNCH_FAILURE_HOST)
        arn = world.start_recovery()
        outcome = world.run_until_settled(arn, real_timeout=120)

        assert outcome.status == "FAILED"
        assert outcome.wave_statuses == ["COMPLETED", "FAILED", "PENDING"]
        record = outcome.record or {}
        assert failing in record["statusReason"]
        assert len(record["waves"][0]["recoveryInstances"]) == 200  # the first wave launched whole

        world.clock.pause()  # the facts stay still while diagnose reads them
        credentials = create_operator(world.client("iam"), "scale-operator")
        session = operator_session(world.endpoint_url, credentials, monkeypatch)
        snap, report = diagnose_execution(arn, session)

    assert report.root_cause is not None
    assert report.root_cause.finding.check in {"DRS002", "DRS003"}
    assert failing in root_cause_text(report) and "stalled" in root_cause_text(report)
    assert sorted(len(job.servers) for job in snap.drs_jobs) == [200, 200]
    # the failed wave's servers are described (the failing one STALLED), the launched wave's are not
    described = {server.source_server_id: server for server in snap.source_servers}
    assert set(described) == set(plan.waves[1].source_server_ids) and not snap.fact_errors
    assert described[failing].replication_state == "STALLED"
    calls = [record.operation for record in session.call_log.records if record.service == "drs"]
    # the failed wave's job log, in two pages (never per server); the launched wave's job is read whole by
    # DescribeJobs, its log of successes is not
    failed_job = next(job.job_id for job in snap.drs_jobs
                      if failing in {server.source_server_id for server in job.servers})
    assert list(snap.job_log_items) == [failed_job]
    assert calls.count("DescribeJobLogItems") == 2
    assert calls.count("DescribeSourceServers") == 1  # 200 servers in one call
