"""The topology, built by hand: Task targets of JSONPath and JSONata definitions, environment values by what
they name, the design (who polls, where the wave status lives) and the orchestrator map's entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drsdoctor.collect.tables import record_from_item
from drsdoctor.engine import diagnose
from drsdoctor.errors import InputError
from drsdoctor.snapshot import Function, Rule, RuleTarget, Snapshot, StateMachine, Table
from drsdoctor.topology import orchestrator_map
from drsdoctor.topology.definition import task_targets
from drsdoctor.topology.design import Deployment, build
from drsdoctor.topology.values import Known, resolve

REGION, ACCOUNT = "eu-west-2", "210987654321"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:zeta"


def loop(task: dict[str, object], jsonata: bool = False) -> str:
    """Start -> Poll (task) -> Hold (Wait) -> Decide (Choice) -> Poll | Done."""
    decide = ({"Type": "Choice", "Choices": [{"Condition": "{% $states.input.s = 'OK' %}", "Next": "Done"}],
               "Default": "Hold"} if jsonata else
              {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "OK", "Next": "Done"}],
               "Default": "Hold"})
    body = {"StartAt": "Kick", "States": {
        "Kick": {"Type": "Task", "Resource": f"{FN}alpha", "Next": "Poll"},
        "Poll": {"Type": "Task", **task, "Next": "Decide"},
        "Decide": decide, "Hold": {"Type": "Wait", "Seconds": 5, "Next": "Poll"},
        "Done": {"Type": "Succeed"}}}
    if jsonata:
        body["QueryLanguage"] = "JSONata"
    return json.dumps(body)


def test_every_kind_of_task_target_is_found_in_jsonpath_and_jsonata() -> None:
    inner = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
             "Parameters": {"FunctionName": "gamma", "Payload": {"t.$": "$$.Task.Token"}}, "End": True}
    nested = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": {
        "StartAt": "Inner", "States": {"Inner": inner}},
        "Next": "P"}, "P": {"Type": "Parallel", "Branches": [{"StartAt": "Child", "States": {"Child": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": MACHINE + "-child"}, "End": True}}}], "Next": "J"},
        "J": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Arguments": {"FunctionName": "{% $states.input.worker %}"}, "Next": "K"},
        "K": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName.$": "$.other"}, "End": True}}}
    found, notes = task_targets(json.dumps(nested), {"worker": "delta"})
    by_state = {t.state: t for t in found}
    assert by_state["Inner"].target == "gamma" and by_state["Inner"].callback
    assert by_state["Child"].kind == "machine" and by_state["Child"].target == MACHINE + "-child"
    assert by_state["J"].target == "delta"  # from this execution's input
    assert "K" not in by_state and any("K chooses its function at run time" in note for note in notes)


@pytest.mark.parametrize("jsonata", [False, True])
def test_a_machine_that_asks_drs_in_its_loop_polls_itself(jsonata: bool) -> None:
    task = {"Resource": "arn:aws:states:::aws-sdk:drs:describeJobs",
            "Arguments" if jsonata else "Parameters": {}}
    targets, _ = task_targets(loop(task, jsonata), {})
    assert [t.state for t in targets if t.in_loop] == ["Poll"]
    topology = build(Deployment(StateMachine(MACHINE, "zeta"), targets, [Function("alpha", FN + "alpha")]))
    assert topology.progress.mode == "self-polling" and topology.progress.drivers == ["drs:describeJobs"]
    assert topology.history_place() is not None and topology.history_place().state == "Poll"


def test_environment_values_are_named_for_what_they_are_whatever_the_variable() -> None:
    known = Known(tables={"ledger"}, functions={"omega": FN + "omega"}, indexes={"by-state": {"ledger"}})
    assert resolve(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger", known).kind == "table"
    assert resolve(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger/index/by-state", known).value == \
        "ledger/by-state"
    assert [resolve(v, known).kind for v in ("ledger", "omega", "by-state", REGION, ACCOUNT,
                                             f"arn:aws:iam::{ACCOUNT}:role/r")] == \
        ["table", "function", "index", "region", "account", "role"]
    assert resolve("30", known) is None and resolve("hello", known) is None


def scheduled_design(mirror_table: str) -> tuple[Deployment, list[Function]]:
    """alpha (the machine's) reads table T; a schedule runs kappa, which names lambda; lambda names T."""
    functions = [Function("alpha", FN + "alpha", environment={"Q1": "ledger", "Q2": REGION}),
                 Function("kappa", FN + "kappa", environment={"Z": "lam"}),
                 Function("lam", FN + "lam", environment={"Y": mirror_table, "W": "us-west-1"})]
    rule = Rule("tick", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/tick", schedule_expression="rate(1 minute)",
                targets=[RuleTarget("1", FN + "kappa")])
    targets, _ = task_targets(loop({"Resource": f"{FN}alpha"}), {})
    known = Known(tables={"ledger", "elsewhere"}, functions={f.name: f.arn for f in functions})
    machine = StateMachine(MACHINE, "zeta")
    return Deployment(machine, targets, functions, [rule], known, region=REGION), functions


def test_a_schedule_that_writes_what_the_machine_reads_drives_progress() -> None:
    topology = build(scheduled_design("ledger")[0])
    assert topology.progress.mode == "scheduled-poller"
    assert {p.name: p.role for p in topology.parts_of("function")} == {
        "alpha": "orchestration", "kappa": "finder", "lam": "poller"}
    assert topology.progress.rules == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/tick"]
    assert topology.record_place() is not None and topology.record_place().table == "ledger"
    assert topology.drs_region == "us-west-1"  # the region the poller is configured with
    assert any("shares table ledger" in line for line in topology.progress.evidence)


def test_a_schedule_that_writes_elsewhere_drives_nothing_and_its_disabled_rule_is_a_warning() -> None:
    found, functions = scheduled_design("elsewhere")
    found.rules[0].state = "DISABLED"
    topology = build(found)
    assert topology.progress.mode == "self-polling" and topology.progress.rules == []
    assert {p.name: p.role for p in topology.parts_of("function")}["lam"] == "other"
    snap = Snapshot(target=f"arn:aws:states:{REGION}:{ACCOUNT}:execution:zeta:1", region=REGION,
                    functions=functions, rules=found.rules, topology=topology)
    evt001 = [f for f in diagnose(snap, only=("EVT001",)).findings]
    assert [f.status for f in evt001] == ["warn", "skip"]
    assert "kappa" in evt001[0].detail and "does not drive" in evt001[0].detail


def test_the_record_is_read_whatever_the_case_of_its_attributes() -> None:
    item = {"RunName": "x", "Status": "Polling", "WaveList": [
        {"WaveNumber": 1, "Status": "Launched", "DrsJobId": "drsjob-1", "SourceServerIds": ["s-1"]},
        {"WaveNumber": 2, "Status": "UNKNOWN", "JobIds": ["drsjob-2"]}]}
    record = record_from_item("ledger", {"RunName": "x"}, item)
    assert record.status == "Polling" and record.status_attribute == "Status"
    assert [(w.number, w.status, w.job_id) for w in record.waves] == [(1, "Launched", "drsjob-1"),
                                                                     (2, "UNKNOWN", "drsjob-2")]
    assert record.waves[0].server_ids == ["s-1"]


def test_a_map_entry_the_deployment_contradicts_is_a_note_not_trusted(tmp_path: Path) -> None:
    found, functions = scheduled_design("ledger")
    topology = build(found)
    snap = Snapshot(target="t", functions=functions, rules=found.rules, topology=topology,
                    tables=[Table("ledger", keys={"pk": "HASH"})], region_table_names=["ledger"])
    path = tmp_path / "map.yaml"
    path.write_text("schema: drsdoctor.orchestrator-map/1\nprogress: {pollers: [nobody]}\n"
                    "wave_status: {table: ledger, key: id}\n")
    orchestrator_map.load(str(path)).apply(topology, snap)
    assert any("nobody" in note and "not a function" in note for note in topology.map_notes)
    assert any("not a key of ledger" in note for note in topology.map_notes)
    assert {p.name: p.role for p in topology.parts_of("function")}["lam"] == "poller"  # unchanged
    path.write_text("schema: drsdoctor.orchestrator-map/1\nprogress: {mode: callback, pollers: alpha}\n"
                    "wave_status: {table: ledger, key: pk, key_source: execution-name, done: [OK]}\n")
    orchestrator_map.load(str(path)).apply(topology, snap)
    assert topology.progress.mode == "callback" and topology.progress.drivers == [FN + "alpha"]
    place = topology.record_place()
    assert place is not None and place.key == "pk" and place.key_source == "execution-name"
    assert place.done_values == ["OK"]


@pytest.mark.parametrize("text, message", [
    ("schema: other\n", "not an orchestrator map"),
    ("schema: drsdoctor.orchestrator-map/1\nprogress: {mode: sometimes}\n", "progress.mode must be"),
    ("schema: drsdoctor.orchestrator-map/1\nwave_status: {key_source: a-guess}\n", "key_source must be"),
    (": : :\n", "not valid YAML"),
])
def test_a_bad_map_is_one_clear_input_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        orchestrator_map.load(str(path))


def test_discover_with_a_bad_arn_is_one_line_and_exit_2() -> None:
    import subprocess
    import sys

    not_an_execution = "arn:aws:lambda:us-east-1:1:function:x"
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "discover", not_an_execution],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
