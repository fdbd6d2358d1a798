"""`diagnose --state-machine ARN --running`: every running execution of a machine in one table, each row with
its own root cause, the facts they share gathered once, and the exit code the single rule gives.

One sandbox world with its clock stopped: each execution starts its wave and waits in WaitForWave for as long
as the test needs. Each runs its own one-server plan (executions of one plan would fight over its servers).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from drsdoctor import exitcodes
from drsdoctor.aws import is_read_operation
from drsdoctor.cli import main
from drsdoctor.commands.diagnose_fleet import diagnose_machine
from drsdoctor.reference.records import protection_group, recovery_plan
from drsdoctor.report.fleet import render
from tests.diagnose.conftest import calls_in_verbose_output, create_operator, operator_session, run_cli

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:drs-orchestrator-sandbox-recovery"


@pytest.fixture(scope="module")
def world() -> Iterator[Any]:
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start(run_clock=False) as started:
        yield started


@pytest.fixture(scope="module")
def operator(world: Any) -> dict[str, str]:
    return create_operator(world.client("iam"), "fleet-operator")


def start_waiting(world: Any, number: int) -> str:
    """Seed a one-server plan, start an execution of it, and return once it waits for its wave."""
    server = world.drs.add_source_server(f"fleet-{number}").source_server_id
    tables = world.resource("dynamodb")
    group, plan = f"pg-fleet-{number}", f"plan-fleet-{number}"
    tables.Table(world.outputs["ProtectionGroupsTableName"]).put_item(
        Item=protection_group(group, f"fleet {number}", [server]))
    tables.Table(world.outputs["RecoveryPlansTableName"]).put_item(
        Item=recovery_plan(plan, f"fleet {number}", [("only", [group])]))
    arn = world.start_recovery(plan, name=f"fleet-{number}")
    sfn = world.client("stepfunctions")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # moto's engine runs the definition in a thread of its own
        events = sfn.get_execution_history(executionArn=arn)["events"]
        if any(event["type"] == "WaitStateEntered" for event in events):
            return str(arn)
        time.sleep(0.1)
    raise AssertionError(f"{arn} never reached its Wait state")


@pytest.fixture(scope="module")
def executions(world: Any) -> list[str]:
    """Three running executions; the third's record deleted from the execution-history table."""
    arns = [start_waiting(world, number) for number in range(3)]
    table = world.resource("dynamodb").Table(world.outputs["ExecutionHistoryTableName"])
    table.delete_item(Key={"executionId": arns[2]})
    return arns


def causes(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    return {row["name"]: (row["root_cause"] or {}).get("check") for row in rows}


@pytest.mark.slow
def test_each_running_execution_gets_its_own_root_cause_and_shared_facts_are_read_once(
        world: Any, operator: dict[str, str], executions: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    session = operator_session(world.endpoint_url, operator, monkeypatch)
    fleet = diagnose_machine(world.state_machine_arn, session)
    rows = {row.name: row for row in fleet.rows}
    assert sorted(rows) == ["fleet-0", "fleet-1", "fleet-2"]
    assert all(row.status == "RUNNING" and row.state == "WaitForWave" for row in fleet.rows)
    assert rows["fleet-0"].report and rows["fleet-0"].report.root_cause is None
    assert rows["fleet-1"].exit_code == exitcodes.OK and rows["fleet-0"].exit_code == exitcodes.OK
    cause = rows["fleet-2"].report.root_cause if rows["fleet-2"].report else None
    assert cause is not None and cause.finding.check == "DDB001", rows["fleet-2"].cause
    assert rows["fleet-2"].cause.startswith("DDB001: ")
    assert fleet.exit_code == exitcodes.PROBLEMS
    assert fleet.summary_line() == ("3 running executions: 2 healthy, 1 with problems, 0 incomplete; "
                                    "root causes: DDB001 x1")

    sent = Counter((record.service, record.operation) for record in session.call_log.records)
    assert all(is_read_operation(service, operation) for service, operation in sent)
    functions = 3  # the reference orchestrator's orchestration function, finder and poller
    assert sent["sfn", "ListExecutions"] == 1
    assert sent["sfn", "DescribeStateMachine"] == 1  # shared: one, however many executions
    assert sent["lambda", "GetFunction"] == functions
    # their code: one package (the three share one zip), fetched once for every execution
    assert [fetch.operation for fetch in session.call_log.fetches] == ["GET"]
    assert sent["cloudformation", "GetTemplate"] == 1
    assert sent["iam", "GetRole"] == functions + 1  # each function's role and the state machine's
    # each log group that exists (only the functions that ran have one) read once, from the oldest
    # execution's start, not once per execution
    groups = sum(1 for record in session.call_log.records
                 if record.operation == "DescribeLogStreams" and record.outcome == "ok")
    assert groups >= 1 and sent["cloudwatch-logs", "FilterLogEvents"] == groups
    assert sent["sfn", "DescribeExecution"] == 3  # and one of each per execution
    assert sent["dynamodb", "GetItem"] + sent["dynamodb", "Query"] == 3  # its record
    # the DRS jobs, source servers and recovery instances of executions collected together: one read each
    assert sent["drs", "DescribeJobs"] == 1
    assert sent["drs", "DescribeSourceServers"] == 1 and sent["drs", "DescribeRecoveryInstances"] == 1
    assert session.call_log.distinct_calls() == len(session.call_log)  # no call twice

    table = render(fleet, "text", color=False)
    lines = {line.split()[0]: line for line in table.splitlines() if line.startswith("fleet-")}
    assert sorted(lines) == ["fleet-0", "fleet-1", "fleet-2"]
    assert "RUNNING" in lines["fleet-2"] and "WaitForWave" in lines["fleet-2"]
    assert "DDB001: no record of this execution" in lines["fleet-2"], table
    assert "none: no check failed" in lines["fleet-0"] and "1/1 POLLING" in lines["fleet-0"]


def start_on(world: Any, machine: str, number: int, settled: str) -> str:
    """Seed a one-server plan, start `machine` on it, and return once `settled` is in its history."""
    server = world.drs.add_source_server(f"quota-{number}").source_server_id
    tables = world.resource("dynamodb")
    group, plan = f"pg-quota-{number}", f"plan-quota-{number}"
    tables.Table(world.outputs["ProtectionGroupsTableName"]).put_item(
        Item=protection_group(group, f"quota {number}", [server]))
    tables.Table(world.outputs["RecoveryPlansTableName"]).put_item(
        Item=recovery_plan(plan, f"quota {number}", [("only", [group])]))
    sfn = world.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, name=f"quota-{number}",
                              input=json.dumps(world.orchestrator.start_input(world, plan)))["executionArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # moto's engine runs the definition in a thread of its own
        if any(event["type"] == settled for event in sfn.get_execution_history(executionArn=arn)["events"]):
            return str(arn)
        time.sleep(0.1)
    raise AssertionError(f"{arn} never reached {settled}")


@pytest.mark.slow
def test_runs_refused_at_drs_s_job_quota_judge_none_of_the_others_jobs_or_logs(
        world: Any, operator: dict[str, str], executions: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans started together past DRS's job quota (the benchmark's fifty, here two): with the sandbox's
    one clock every job began "since" each refused run began, and the refused runs' wave starts logged
    errors in the function all the runs share. The refused run reads no other run's jobs (so the calls per
    execution stay flat: its own history, record and jobs' log items) and its root cause is its wave that
    never started; the run waiting for its wave keeps no root cause (the errors are not its own).
    A second machine of the same definition: its runs (which a stop cannot end while they back off on the
    stopped clock) are not among the three the other tests diagnose."""
    from drsdoctor.sandbox.drs.model import Quotas

    sfn = world.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=world.state_machine_arn)
    machine = sfn.create_state_machine(name="quota-recovery", definition=described["definition"],
                                       roleArn=described["roleArn"])["stateMachineArn"]
    quotas = world.drs.quotas
    waiting = start_on(world, machine, 0, "WaitStateEntered")
    world.drs.quotas = Quotas(concurrent_jobs=len(world.drs.describe_jobs()[0]))  # every job running
    try:
        refused = [start_on(world, machine, 1, "LambdaFunctionFailed")]
    finally:
        world.drs.quotas = quotas
    session = operator_session(world.endpoint_url, operator, monkeypatch)
    fleet = diagnose_machine(machine, session)

    rows = {row.arn: row for row in fleet.rows}
    assert sorted(rows) == sorted([waiting, *refused])
    roots = {arn: row.report.root_cause if row.report else None for arn, row in rows.items()}
    assert roots[waiting] is None, roots[waiting]
    for arn in refused:  # no other run's job taken for its own
        assert roots[arn] is not None and roots[arn].finding.check == "DRS001", roots[arn]
        assert "no DRS job was created" in roots[arn].finding.detail
    findings = rows[waiting].report.findings if rows[waiting].report else []
    logged = [f for f in findings if f.check == "LMB004" and "error line" in f.detail]
    assert logged and all(f.status == "skip" and "other runs'" in f.detail for f in logged), logged

    sent = Counter((record.service, record.operation) for record in session.call_log.records)
    assert sent["sfn", "DescribeExecution"] == sent["sfn", "GetExecutionHistory"] == 2
    assert sent["dynamodb", "GetItem"] + sent["dynamodb", "Query"] == 2
    assert sent["drs", "DescribeJobLogItems"] == 1  # the waiting run's job; the refused run has none
    per_execution = {("sfn", "DescribeExecution"), ("sfn", "GetExecutionHistory"), ("dynamodb", "GetItem"),
                     ("dynamodb", "Query"), ("drs", "DescribeJobLogItems")}
    shared = {call: count for call, count in sent.items() if call not in per_execution}
    assert shared["sfn", "DescribeStateMachine"] == shared["cloudwatch-logs", "FilterLogEvents"] == 1, shared
    assert shared["iam", "SimulatePrincipalPolicy"] == 1 and shared["drs", "DescribeJobs"] <= 2, shared
    assert session.call_log.distinct_calls() == len(session.call_log)  # no call twice


@pytest.mark.slow
def test_a_drs_read_refused_for_the_group_is_an_error_in_each_execution_s_report(
        world: Any, executions: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = create_operator(world.client("iam"), "fleet-no-jobs", deny=("drs:DescribeJobs",))
    fleet = diagnose_machine(world.state_machine_arn, operator_session(world.endpoint_url, credentials,
                                                                        monkeypatch))
    assert len(fleet.rows) == 3
    for row in fleet.rows:
        assert row.report is not None
        errors = [finding for finding in row.report.findings if finding.status == "error"]
        assert any("drs:DescribeJobs" in finding.detail for finding in errors), (row.name, errors)


def test_the_cli_prints_the_rows_as_json_and_exits_with_the_worst(
        world: Any, operator: dict[str, str], executions: list[str]) -> None:
    done = run_cli("diagnose", "--state-machine", world.state_machine_arn, "--running", "--format", "json",
                   credentials=operator, endpoint_url=world.endpoint_url)
    assert done.returncode == exitcodes.PROBLEMS, done.stderr
    fleet = json.loads(done.stdout)
    assert fleet["schema"] == "drsdoctor.fleet/1"
    assert fleet["state_machine"] == world.state_machine_arn and fleet["selection"] == "running"
    assert causes(fleet["executions"]) == {"fleet-0": None, "fleet-1": None, "fleet-2": "DDB001"}
    by_name = {row["name"]: row for row in fleet["executions"]}
    assert by_name["fleet-2"]["report"]["schema"] == "drsdoctor.report/1"
    assert by_name["fleet-2"]["execution"] == executions[2] and by_name["fleet-2"]["exit_code"] == 1
    assert fleet["summary"] == {"executions": 3, "healthy": 2, "problems": 1, "incomplete": 0,
                                "root_causes": {"DDB001": 1}, "text": fleet["summary"]["text"],
                                "exit_code": exitcodes.PROBLEMS}


@pytest.mark.slow
def test_a_machine_with_nothing_running_says_so_and_exits_0(
        world: Any, operator: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = world.client("stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    idle = sfn.create_state_machine(name="idle", roleArn=f"arn:aws:iam::{world.account_id}:role/idle",
                                    definition=definition)["stateMachineArn"]
    for name, value in operator.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as ended:
        main(["diagnose", "--state-machine", idle, "--running", "--endpoint-url", world.endpoint_url,
              "--format", "markdown", "-v"])
    out, err = capsys.readouterr()
    assert ended.value.code == exitcodes.OK
    assert f"no running execution of {idle}" in out
    assert calls_in_verbose_output(err) == [("sfn", "DescribeStateMachine"), ("sfn", "ListExecutions")]


@pytest.mark.slow
def test_an_unknown_state_machine_is_one_line_and_exit_3(
        world: Any, operator: dict[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in operator.items():
        monkeypatch.setenv(name, value)
    missing = world.state_machine_arn + "-gone"
    with pytest.raises(SystemExit) as ended:
        main(["diagnose", "--state-machine", missing, "--running", "--endpoint-url", world.endpoint_url])
    err = capsys.readouterr().err.strip().splitlines()
    assert ended.value.code == exitcodes.INCOMPLETE
    assert len(err) == 1 and f"state machine {missing} does not exist" in err[0], err


@pytest.mark.parametrize(("args", "says"), [
    (["--state-machine", "not-an-arn", "--running"], "not an ARN"),
    (["--state-machine", "arn:aws:lambda:us-east-1:123456789012:function:poller", "--running"],
     "is a lambda ARN"),
    (["--state-machine", f"{MACHINE.replace('stateMachine', 'execution')}:run-1", "--running"],
     "not a state machine ARN"),
    (["--state-machine", MACHINE], "--running"),
    (["--running"], "--state-machine"),
    ([f"{MACHINE.replace('stateMachine', 'execution')}:run-1", "--state-machine", MACHINE, "--running"],
     "without an EXECUTION_ARN"),
    (["--state-machine", MACHINE, "--running", "--format", "sarif"], "--format sarif"),
    (["--state-machine", MACHINE, "--running", "--check", "NOPE001"], "no check with id NOPE001"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], says: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: a call would exit 3
    with pytest.raises(SystemExit) as ended:
        main(["diagnose", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert ended.value.code == exitcodes.USAGE
    assert len(err) == 1 and says in err[0], err


# ---- the table and its exit code, without a world ------------------------------------------------------

def _row(name: str, *statuses: str, missing: tuple[str, ...] = (), error: str | None = None) -> Any:
    from datetime import datetime, timezone

    from drsdoctor.checkapi import Finding
    from drsdoctor.engine import Report, rank_root_cause
    from drsdoctor.report.fleet import FleetRow

    findings = [Finding(f"CHK{number:03d}", status, f"res-{number}", f"{status} detail of {name}",
                        layer="cause", severity="high") for number, status in enumerate(statuses)]
    report = None if error else Report(f"arn:{name}", findings, rank_root_cause(findings))
    return FleetRow(arn=f"arn:{name}", name=name, status="RUNNING", report=report, error=error,
                    started=datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc), missing=list(missing))


@pytest.mark.parametrize(("rows", "code"), [
    ([], exitcodes.OK),
    ([("a", "pass"), ("b", "pass", "warn")], exitcodes.OK),
    ([("a", "pass"), ("b", "error")], exitcodes.INCOMPLETE),  # b: nothing could be read
    ([("a", "fail"), ("b", "error")], exitcodes.PROBLEMS),  # a problem found outranks a fact not read
    ([("a", "fail"), ("b", "pass", "fail")], exitcodes.PROBLEMS),
])
def test_the_exit_code_is_the_worst_by_the_rule_of_one_report(rows: list[tuple[str, ...]], code: int) -> None:
    from datetime import datetime, timezone

    from drsdoctor.report.fleet import Fleet

    fleet = Fleet("arn:machine", "running", datetime(2026, 1, 1, 11, tzinfo=timezone.utc),
                  [_row(name, *statuses) for name, *statuses in rows])
    assert fleet.exit_code == code


def test_a_run_cut_short_or_an_execution_not_read_is_incomplete_and_says_why() -> None:
    from datetime import datetime, timezone

    from drsdoctor.report.fleet import Fleet, render

    cut = _row("cut", "pass", missing=("history",))
    gone = _row("gone", error="execution arn:gone does not exist")
    fleet = Fleet("arn:machine", "running", datetime(2026, 1, 1, 11, 30, tzinfo=timezone.utc),
                  [_row("broken", "fail"), cut, gone])
    assert fleet.exit_code == exitcodes.INCOMPLETE  # the --timeout budget ran out: exit 3, as for one
    assert cut.cause == "incomplete: the --timeout budget ran out (history)"
    assert gone.exit_code == exitcodes.INCOMPLETE and gone.cause.startswith("not diagnosed: execution")
    text = render(fleet, "text", color=False)
    broken = next(line for line in text.splitlines() if line.startswith("broken"))
    assert "RUNNING 1h30m" in broken and "CHK000: fail detail of broken" in broken
    document = json.loads(render(fleet, "json"))
    assert [row["exit_code"] for row in document["executions"]] == [1, 3, 3]
    assert document["executions"][0]["age_seconds"] == 5400
    assert document["executions"][2]["report"] is None
    assert "| `gone` |" in render(fleet, "markdown")
