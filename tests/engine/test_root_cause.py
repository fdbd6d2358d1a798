"""Root cause ranking: the deepest failing cause that explains the observed symptoms leads the report."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import NOW, RULE_ARN, Snapshot, fn_arn, healthy, stuck

from drsdoctor.checkapi import CAUSE, MECHANISM, SYMPTOM, Finding
from drsdoctor.engine import diagnose, rank_root_cause
from drsdoctor.snapshot import Decision, JobServer


def rule_disabled() -> Snapshot:
    snap = stuck()
    snap.rules[0].state = "DISABLED"
    for function in snap.functions_of_kind("finder", "poller"):
        function.last_invocation = NOW - timedelta(minutes=38)
    return snap


def rule_disabled_until_the_wave_timed_out() -> Snapshot:
    """The same incident an hour on: the wave timeout has failed the execution; the cause has not changed."""
    snap = rule_disabled()
    assert snap.execution is not None
    snap.execution.status, snap.execution.stop_date = "FAILED", NOW - timedelta(minutes=1)
    snap.execution.error, snap.execution.cause = "WaveTimedOut", "wave 1 did not complete within 60 minutes"
    return snap


def wrong_table() -> Snapshot:
    snap = stuck()
    poller = snap.function_of_kind("poller")
    assert poller is not None
    poller.environment["EXECUTION_TABLE"] = "drs-execution-history-dev2"
    poller.recent_errors = ["ResourceNotFoundException: Requested resource not found"]
    return snap


def follow_on_missing() -> Snapshot:
    snap = healthy()
    assert snap.execution is not None and snap.execution_record is not None
    snap.execution.status = "FAILED"
    snap.drs_jobs[0].servers = [JobServer("s-1", "FAILED"), JobServer("s-2", "FAILED")]
    role = snap.role("orchestration")
    assert role is not None
    role.decisions.append(Decision("drs:CreateRecoveryInstanceForDrs", "implicitDeny"))
    role.decisions = [d for d in role.decisions
                      if not (d.action == "drs:CreateRecoveryInstanceForDrs" and d.allowed)]
    return snap


def concurrency_zero() -> Snapshot:
    snap = stuck()
    poller = snap.function_of_kind("poller")
    assert poller is not None
    poller.reserved_concurrency = 0
    poller.last_invocation = NOW - timedelta(minutes=40)
    return snap


@pytest.mark.parametrize(("name", "build", "root", "resource", "chain"), [
    ("schedule rule disabled", rule_disabled, "EVT001", RULE_ARN, ["EVT004", "EVT004", "DDB002", "SFN002"]),
    ("schedule rule disabled until the wave timed out", rule_disabled_until_the_wave_timed_out, "EVT001",
     RULE_ARN, ["DDB002", "SFN001"]),
    ("poller reads another environment's table", wrong_table, "LMB001",
     fn_arn("drs-execution-poller") + "#EXECUTION_TABLE", ["LMB004", "DDB002", "SFN002"]),
    ("follow-on permission missing", follow_on_missing, "IAM001",
     "arn:aws:iam::123456789012:role/drs-orchestration-role", ["DRS003", "DRS001", "SFN001"]),
    ("poller throttled to zero", concurrency_zero, "LMB003", fn_arn("drs-execution-poller"),
     ["EVT004", "DDB002", "SFN002"]),
])
def test_the_root_cause_is_the_deepest_failing_cause_with_its_chain(name, build, root, resource,
                                                                   chain) -> None:
    report = diagnose(build())
    assert report.root_cause is not None
    assert (report.root_cause.finding.check, report.root_cause.finding.resource) == (root, resource)
    assert [f.check for f in report.root_cause.chain] == chain
    assert report.root_cause.finding.remediation


def test_a_healthy_snapshot_has_no_root_cause() -> None:
    assert diagnose(healthy()).root_cause is None


def make(check: str, layer: str, status: str = "fail", shows=(), explains=(), severity="high") -> Finding:
    return Finding(check=check, status=status, layer=layer, shows=tuple(shows), explains=tuple(explains),
                   severity=severity, detail=check)


def test_a_cause_that_explains_the_symptoms_beats_an_unrelated_cause() -> None:
    findings = [make("SYM", SYMPTOM, shows=["stuck"]), make("UNRELATED", CAUSE, severity="critical"),
                make("MECH", MECHANISM, shows=["quiet"], explains=["stuck"]),
                make("CAUSE", CAUSE, explains=["quiet"], severity="low")]
    root = rank_root_cause(findings)
    assert root is not None and root.finding.check == "CAUSE"
    assert [f.check for f in root.chain] == ["MECH", "SYM"]
    assert [f.check for f in root.also] == ["UNRELATED"]


def test_a_failing_mechanism_leads_when_no_cause_was_found() -> None:
    root = rank_root_cause([make("SYM", SYMPTOM, shows=["stuck"]),
                            make("MECH", MECHANISM, shows=["quiet"], explains=["stuck"])])
    assert root is not None and root.finding.check == "MECH"


def test_fail_outranks_warn() -> None:
    root = rank_root_cause([make("SYM", SYMPTOM, shows=["stuck"]),
                            make("WARNED", CAUSE, status="warn", explains=["stuck"]),
                            make("FAILED", MECHANISM, explains=["stuck"])])
    assert root is not None and root.finding.check == "FAILED"


def test_chains_with_cycles_terminate() -> None:
    root = rank_root_cause([make("A", CAUSE, shows=["a"], explains=["b"]),
                            make("B", MECHANISM, shows=["b"], explains=["a"])])
    assert root is not None and root.finding.check == "A" and [f.check for f in root.chain] == ["B"]


def test_a_cause_reaches_the_symptoms_by_implication_when_the_mechanism_left_no_trace() -> None:
    snap = rule_disabled()
    role = snap.role("orchestration")
    assert role is not None
    role.decisions.append(Decision("ec2:CreateTags", "implicitDeny"))  # a real cause, of fewer symptoms
    for server in snap.drs_jobs[0].servers:
        server.launch_status = "FAILED"
    report = diagnose(snap, skip=["EVT004"])  # as if the functions had no logs to show they stopped
    assert report.root_cause is not None and report.root_cause.finding.check == "EVT001"
    assert [f.check for f in report.root_cause.chain] == ["DDB002", "SFN002"]
    assert [f.check for f in report.root_cause.also] == ["IAM001"]
