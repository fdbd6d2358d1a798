"""Every check with its facts missing: denied, not found, or empty. It says `error` or `skip` (or a genuine
`fail` where the absence IS the finding, listed below with why), never `pass`, never a crash.

The checks are loaded with the engine's own loader, so a new check is covered without touching this file;
a new Snapshot fact must be given its missing forms in NOT_FOUND and EMPTY (a test says so).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from builders import EXEC_ARN, SM_ARN, TABLES, healthy, stuck

from drsdoctor.checkapi import ERROR, FAIL, PASS, SKIP, CheckSpec, Finding
from drsdoctor.engine import load_checks, run_check
from drsdoctor.planfacts import RecoveryPlanRun
from drsdoctor.snapshot import (
    DrsJob,
    Execution,
    ExecutionRecord,
    FactError,
    History,
    Snapshot,
    Stack,
    StateMachine,
    Table,
    WaveRecord,
    fact_actions,
)

PLAN_ARN = "arn:aws:drs:us-east-1:123456789012:recovery-plan/rp-0123456789abcdef0"
PLAN_EXECUTION_ARN = "arn:aws:drs:us-east-1:123456789012:recovery-plan-execution/rpe-0123456789abcdef0"
CHECKS = load_checks(entry_points=False).checks
FACTS = fact_actions()
BASES: dict[str, Callable[[], Snapshot]] = {"healthy": healthy, "stuck": stuck}

# The fact as the collector leaves it when AWS answers "no such thing".
NOT_FOUND: dict[str, Callable[[Snapshot], Any]] = {
    "execution": lambda s: None,
    "history": lambda s: None,
    "state_machine": lambda s: None,
    "functions": lambda s: [],
    "tables": lambda s: [Table(name=t.name, exists=False, status="") for t in s.tables],
    "region_table_names": lambda s: [],
    "execution_record": lambda s: ExecutionRecord(table=TABLES[2], key={"executionId": EXEC_ARN}),
    "rules": lambda s: [],
    "drs_jobs": lambda s: [],
    "job_log_items": lambda s: {},
    "source_servers": lambda s: [],
    "recovery_instances": lambda s: [],
    "role_decisions": lambda s: [],
    "accounts": lambda s: [],
    "stack": lambda s: None,
    "recovery_plan": lambda s: None,
    "plan_executions": lambda s: [],
}

# The fact present but saying nothing: empty lists, blank fields, an empty history.
EMPTY: dict[str, Callable[[Snapshot], Any]] = {
    "execution": lambda s: Execution(arn=EXEC_ARN, status=""),
    "history": lambda s: History(events=[], complete=True),
    "state_machine": lambda s: StateMachine(arn=SM_ARN, definition=""),
    "functions": lambda s: [],
    "tables": lambda s: [],
    "region_table_names": lambda s: [],
    "execution_record": lambda s: ExecutionRecord(table=TABLES[2], key={"executionId": EXEC_ARN}, status="",
                                                  waves=[WaveRecord(number=1, status="")],
                                                  item={"executionId": EXEC_ARN}),
    "rules": lambda s: [],
    "drs_jobs": lambda s: [DrsJob(job_id=job.job_id, status="") for job in s.drs_jobs],
    "job_log_items": lambda s: {job_id: [] for job_id in s.job_log_items},
    "source_servers": lambda s: [],
    "recovery_instances": lambda s: [],
    "role_decisions": lambda s: [dataclasses.replace(role, decisions=[]) for role in s.role_decisions],
    "accounts": lambda s: [],
    "stack": lambda s: Stack(name="drs-orchestrator"),
    "recovery_plan": lambda s: RecoveryPlanRun(arn=PLAN_EXECUTION_ARN, plan_arn=PLAN_ARN, status=""),
    "plan_executions": lambda s: [],
}

# Where the absence IS the finding, a `fail` is the right answer. (check, way) -> why.
ABSENCE_IS_THE_FINDING: dict[tuple[str, str], str] = {
    ("SFN001", "not-found"): "no execution where the ARN points: from a bundle, that is the answer",
    ("DDB001", "not-found"): "the table was read and holds no record of the execution: the finder has "
                             "nothing to poll",
    ("DDB001", "empty"): "a record with no status is never returned by the finder's status query",
    ("DDB002", "empty"): "a wave with no status is the symptom itself: the poller never wrote one",
}


def _with(base: Snapshot, forms: dict[str, Callable[[Snapshot], Any]], facts: tuple[str, ...]) -> Snapshot:
    snap = copy.deepcopy(base)
    for fact in facts:
        setattr(snap, fact, forms[fact](snap))
    return snap


def _crashes(findings: list[Finding]) -> list[str]:
    return [f.detail for f in findings if f.status == ERROR and f.detail.startswith(("the check crashed",
                                                                                     "the check yielded"))]


def _cases(ways: tuple[str, ...]) -> list[Any]:
    return [pytest.param(spec, base, way, id=f"{spec.id}-{way}-{base}")
            for spec in CHECKS for way in ways for base in BASES if spec.reads]


def test_every_fact_has_its_missing_forms() -> None:
    assert set(FACTS) <= set(NOT_FOUND) & set(EMPTY), "give a new Snapshot fact its NOT_FOUND and EMPTY forms"


def test_every_check_declares_what_it_reads() -> None:
    undeclared = {spec.id: spec.reads for spec in CHECKS if not spec.reads or set(spec.reads) - set(FACTS)}
    assert not undeclared


@pytest.mark.parametrize(("spec", "fact", "base"), [
    pytest.param(spec, fact, base, id=f"{spec.id}-{fact}-{base}")
    for spec in CHECKS for fact in spec.reads for base in BASES])
def test_a_denied_fact_makes_the_check_say_error_naming_the_permission(spec: CheckSpec, fact: str,
                                                                        base: str) -> None:
    permission = FACTS[fact][0]
    snap = _with(BASES[base](), NOT_FOUND, (fact,))
    snap.fact_errors.append(FactError(fact=fact, call=permission, code="AccessDeniedException",
                                      message="User is not authorized", permission=permission))
    findings = run_check(spec, snap)
    assert {f.status for f in findings} == {ERROR}
    assert all(permission in f.detail for f in findings)


@pytest.mark.parametrize(("spec", "base", "way"), _cases(("not-found", "empty")))
def test_missing_facts_never_pass_and_never_crash(spec: CheckSpec, base: str, way: str) -> None:
    snap = _with(BASES[base](), NOT_FOUND if way == "not-found" else EMPTY, spec.reads)
    findings = run_check(spec, snap)
    assert not _crashes(findings)
    statuses = {f.status for f in findings}
    if (spec.id, way) in ABSENCE_IS_THE_FINDING:  # the list stays honest: each entry really is a finding
        assert FAIL in statuses and statuses <= {FAIL, ERROR, SKIP}
    else:
        assert statuses <= {ERROR, SKIP}, [(f.status, f.resource, f.detail) for f in findings]


@pytest.mark.parametrize(("spec", "fact", "way"), [
    pytest.param(spec, fact, way, id=f"{spec.id}-{fact}-{way}")
    for spec in CHECKS for fact in FACTS for way in ("not-found", "empty")])
def test_any_one_fact_missing_never_crashes_a_check(spec: CheckSpec, fact: str, way: str) -> None:
    """Checks also read facts they do not declare (a poll interval, the jobs): those may be missing too."""
    snap = _with(stuck(), NOT_FOUND if way == "not-found" else EMPTY, (fact,))
    assert not _crashes(run_check(spec, snap))


# ---- part of a fact denied: one resource could not be read -------------------------------------

def _drop_poller(snap: Snapshot) -> str:
    snap.functions = [f for f in snap.functions if f.kind != "poller"]
    return "drs-execution-poller"


def _poller_logs_denied(snap: Snapshot) -> str:
    poller = next(f for f in snap.functions if f.kind == "poller")
    poller.last_invocation, poller.recent_errors = None, []
    return "drs-execution-poller"


def _finder_policy_denied(snap: Snapshot) -> str:
    finder = next(f for f in snap.functions if f.kind == "finder")
    finder.policy = None
    return "drs-execution-finder"


def _drop_history_table(snap: Snapshot) -> str:
    snap.tables = [t for t in snap.tables if t.name != TABLES[2]]
    return TABLES[2]


def _drop_job(snap: Snapshot) -> str:
    snap.drs_jobs = []
    return "drsjob-1"


def _drop_job_log(snap: Snapshot) -> str:
    snap.job_log_items = {}
    return "drsjob-1"


def _drop_poller_role(snap: Snapshot) -> str:
    snap.role_decisions = [r for r in snap.role_decisions if r.kind != "poller"]
    return "arn:aws:iam::123456789012:role/drs-poller-role"


PARTS: dict[str, tuple[str, Callable[[Snapshot], str]]] = {
    "poller-unreadable": ("functions", _drop_poller),
    "poller-logs-denied": ("functions", _poller_logs_denied),
    "finder-policy-denied": ("functions", _finder_policy_denied),
    "history-table-denied": ("tables", _drop_history_table),
    "job-denied": ("drs_jobs", _drop_job),
    "job-log-denied": ("job_log_items", _drop_job_log),
    "poller-role-denied": ("role_decisions", _drop_poller_role),
}


def _concerns(finding: Finding, resource: str) -> bool:
    """The finding is about that resource: its name, ARN, or ``name#part``."""
    return finding.resource == resource or resource in re.split(r"[:/#]", finding.resource)


@pytest.mark.parametrize(("spec", "part", "base"), [
    pytest.param(spec, part, base, id=f"{spec.id}-{part}-{base}")
    for spec in CHECKS for part, (fact, _) in PARTS.items() if fact in spec.reads for base in BASES])
def test_a_resource_that_could_not_be_read_is_not_passed_and_adds_no_problem(spec: CheckSpec, part: str,
                                                                            base: str) -> None:
    fact, breaks = PARTS[part]
    before = run_check(spec, BASES[base]())
    snap = BASES[base]()
    resource = breaks(snap)
    snap.fact_errors.append(FactError(fact=fact, call="svc:Read", code="AccessDeniedException",
                                      resource=resource, permission="svc:Read"))
    after = run_check(spec, snap)
    assert not _crashes(after)
    assert not [f for f in after if f.status == PASS and _concerns(f, resource)]
    assert any(f.status == ERROR and _concerns(f, resource) for f in after)
    problems = {(f.status, f.resource) for f in before if f.status == FAIL}
    assert {(f.status, f.resource) for f in after if f.status == FAIL} <= problems


def _unreadable_table(snap: Snapshot, *facts: str) -> Snapshot:
    """DescribeTable denied on the execution-history table (so its record was not looked for), and any
    further facts denied as a whole."""
    snap.fact_errors.append(FactError(fact="tables", call="dynamodb:DescribeTable",
                                      code="AccessDeniedException", resource=TABLES[2],
                                      permission="dynamodb:DescribeTable"))
    for fact in facts:
        snap.fact_errors.append(FactError(fact=fact, call=FACTS[fact][0], code="AccessDeniedException",
                                          permission=FACTS[fact][0]))
        setattr(snap, fact, NOT_FOUND[fact](snap))
    snap.tables = [table for table in snap.tables if table.name != TABLES[2]]
    snap.execution_record = None
    return snap


@pytest.mark.parametrize("check_id", ["DDB001", "DDB002", "DDB003", "LMB001"])
def test_a_table_that_could_not_be_described_or_listed_is_not_a_missing_table(check_id: str) -> None:
    spec = next(spec for spec in CHECKS if spec.id == check_id)
    findings = run_check(spec, _unreadable_table(stuck(), "region_table_names"))
    about = [f for f in findings if TABLES[2] in f.resource or TABLES[2] in f.detail]
    assert {f.status for f in about} <= {ERROR, SKIP}, [(f.status, f.detail) for f in about]
    assert not [f for f in findings if f.status == FAIL]
    if check_id != "DDB002":  # DDB002 reads the record only: with none, it has nothing to say (skip)
        assert any(f.status == ERROR and "dynamodb:DescribeTable" in f.detail for f in about)


def test_a_table_described_as_missing_still_fails_when_the_listing_was_denied() -> None:
    spec = next(spec for spec in CHECKS if spec.id == "LMB001")
    snap = _unreadable_table(stuck(), "region_table_names")
    snap.tables.append(Table(name=TABLES[2], exists=False, status=""))
    snap.fact_errors = [e for e in snap.fact_errors if e.resource != TABLES[2]]
    failed = [f for f in run_check(spec, snap) if f.status == FAIL]
    assert failed and all(f"no table {TABLES[2]} exists" in f.detail for f in failed)
