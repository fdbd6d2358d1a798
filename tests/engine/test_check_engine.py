"""The engine: discovery of checks, crash and missing-fact handling, selection, exit codes."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import healthy, stuck

from drsdoctor import exitcodes
from drsdoctor.checkapi import CheckSpec, Finding, passed
from drsdoctor.engine import diagnose, load_checks, run_check, select
from drsdoctor.errors import InputError
from drsdoctor.snapshot import FactError, Snapshot

BUILT_IN = {"SFN001", "SFN002", "SFN003", "SFN004", "SFN005", "IAM001", "IAM002", "IAM003", "EVT001",
            "EVT002", "EVT003", "EVT004", "LMB001", "LMB002", "LMB003", "LMB004", "DDB001", "DDB002",
            "DDB003", "DRS001", "DRS002", "DRS003"}


def test_the_built_in_checks_are_found() -> None:
    assert {spec.id for spec in load_checks(entry_points=False).checks} == BUILT_IN


def test_every_built_in_check_declares_what_it_reads_and_has_a_remediation() -> None:
    for spec in load_checks(entry_points=False).checks:
        assert spec.reads and spec.actions(), spec.id
        assert spec.remediation and spec.title, spec.id


def spec(run, reads: tuple[str, ...] = ("functions",)) -> CheckSpec:
    return CheckSpec(id="TST001", service="lambda", severity="high", title="test", run=run, reads=reads,
                     remediation="do {thing}")


def test_a_crashing_check_becomes_one_error_finding_and_the_others_still_run() -> None:
    def crash(snap: Snapshot):
        raise KeyError("Variables")

    (finding,) = run_check(spec(crash), healthy())
    assert finding.status == "error" and "crashed: KeyError" in finding.detail
    assert finding.evidence[0].startswith("test_check_engine.py:")
    report = diagnose(healthy(), checks=[spec(crash), *load_checks(entry_points=False).checks])
    assert report.counts()["error"] == 1 and report.counts()["pass"] > 20


def test_a_check_whose_fact_is_missing_reports_error_with_the_permission_never_pass() -> None:
    snap = healthy(functions=[], fact_errors=[FactError(
        "functions", "lambda:GetFunctionConfiguration", "AccessDeniedException", "",
        permission="lambda:GetFunctionConfiguration")])
    (finding,) = run_check(spec(lambda s: [passed("x", "fine")]), snap)
    assert finding.status == "error"
    assert "needs lambda:GetFunctionConfiguration" in finding.detail


def test_a_partly_missing_fact_turns_that_resources_pass_into_an_error() -> None:
    snap = healthy(fact_errors=[FactError("functions", "lambda:GetPolicy", "AccessDeniedException",
                                          "drs-execution-finder", permission="lambda:GetPolicy")])
    run = spec(lambda s: [passed(f.name, "ok") for f in s.functions])
    result = sorted((f.status, f.resource) for f in run_check(run, snap))
    assert result == [("error", "drs-execution-finder"), ("pass", "drs-execution-poller"),
                      ("pass", "drs-orchestration")]


def test_findings_get_the_checks_metadata_and_a_filled_remediation() -> None:
    from drsdoctor.checkapi import fail

    (finding,) = run_check(spec(lambda s: [fail("r", "broken", fix={"thing": "it"})]), healthy())
    assert (finding.check, finding.severity, finding.service, finding.remediation) == (
        "TST001", "high", "lambda", "do it")


def test_a_check_that_yields_nothing_is_skipped_not_passed() -> None:
    (finding,) = run_check(spec(lambda s: iter(())), healthy())
    assert finding.status == "skip"


def test_select_by_id_and_unknown_ids_are_input_errors_with_a_suggestion() -> None:
    checks = load_checks(entry_points=False).checks
    assert [s.id for s in select(checks, only=["evt001", "EVT002"], skip=["EVT002"])] == ["EVT001"]
    with pytest.raises(InputError, match="did you mean EVT001"):
        select(checks, only=["EVT01"])


def test_checks_dir_modules_load_like_built_ins(tmp_path: Path) -> None:
    (tmp_path / "team_checks.py").write_text(textwrap.dedent('''
        from drsdoctor.checkapi import check, fail, LOW
        @check(id="TEAM001", service="lambda", severity=LOW, title="Functions are tagged",
               reads=("functions",))
        def tagged(snap):
            for function in snap.functions:
                yield fail(function.arn, f"{function.name} has no owner tag")
    '''))
    loaded = load_checks([tmp_path], entry_points=False)
    assert "TEAM001" in {s.id for s in loaded.checks}
    report = diagnose(healthy(), only=["TEAM001"], checks_dirs=[tmp_path])
    assert {f.check for f in report.findings} == {"TEAM001"} and report.exit_code == exitcodes.PROBLEMS


@pytest.mark.parametrize(("source", "message"), [
    ("def broken(:\n", "SyntaxError"),
    ("import not_a_module_anywhere\n", "ModuleNotFoundError"),
])
def test_a_broken_checks_dir_module_is_one_line_of_input_error(tmp_path: Path, source: str,
                                                              message: str) -> None:
    (tmp_path / "bad.py").write_text(source)
    with pytest.raises(InputError, match=message) as raised:
        load_checks([tmp_path], entry_points=False)
    assert "\n" not in str(raised.value)


def test_a_check_id_claimed_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.py").write_text(textwrap.dedent('''
        from drsdoctor.checkapi import check, LOW
        @check(id="EVT001", service="events", severity=LOW, title="mine")
        def mine(snap):
            return []
    '''))
    with pytest.raises(InputError, match="EVT001 is defined twice"):
        load_checks([tmp_path], entry_points=False)


@pytest.mark.parametrize(("build", "code"), [
    (healthy, exitcodes.OK),
    (stuck, exitcodes.PROBLEMS),
    (lambda: healthy(execution=None, history=None, fact_errors=[
        FactError("execution", "states:DescribeExecution", "AccessDeniedException"),
        FactError("history", "states:GetExecutionHistory", "AccessDeniedException")]), exitcodes.OK),
])
def test_exit_codes(build, code: int) -> None:
    assert diagnose(build()).exit_code == code


def test_exit_code_is_incomplete_when_no_check_could_tell() -> None:
    snap = healthy(execution=None, history=None, fact_errors=[
        FactError("execution", "states:DescribeExecution", "AccessDeniedException"),
        FactError("history", "states:GetExecutionHistory", "AccessDeniedException")])
    report = diagnose(snap, only=["SFN001", "SFN002", "SFN004"])
    assert report.counts()["error"] == 3 and report.exit_code == exitcodes.INCOMPLETE


def test_unknown_status_from_a_third_party_check_is_an_error() -> None:
    (finding,) = run_check(spec(lambda s: [Finding(check="", status="ok")]), healthy())
    assert finding.status == "error" and "unknown status" in finding.detail
