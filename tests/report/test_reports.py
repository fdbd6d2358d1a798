"""Reports: every format carries the root cause, its fix and every finding, in the shape its readers need."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import NOW, RULE_ARN, healthy, stuck

from drsdoctor.engine import Report, diagnose
from drsdoctor.errors import InputError
from drsdoctor.report import FORMATS, render


@pytest.fixture(scope="module")
def broken() -> Report:
    snap = stuck()
    snap.rules[0].state = "DISABLED"
    for function in snap.functions_of_kind("finder", "poller"):
        function.last_invocation = NOW - timedelta(minutes=38)
    return diagnose(snap)


def test_json_report_has_the_documented_shape(broken: Report) -> None:
    data = json.loads(render(broken, "json"))
    assert data["schema"] == "drsdoctor.report/1"
    assert data["target"] == broken.target
    root = data["root_cause"]
    assert {"check", "resource", "summary", "remediation", "evidence"} <= set(root)
    assert (root["check"], root["resource"]) == ("EVT001", RULE_ARN)
    assert root["remediation"] == "aws events enable-rule --name drs-execution-finder-schedule"
    assert [link["check"] for link in root["chain"]] == ["EVT004", "EVT004", "DDB002", "SFN002"]
    for finding in data["findings"]:
        assert {"check", "status", "severity", "resource", "title", "detail", "evidence",
                "remediation"} <= set(finding)
        assert finding["status"] in {"pass", "warn", "fail", "error", "skip"}
    assert data["summary"]["fail"] == 5 and data["summary"]["exit_code"] == 1
    assert [step["step"] for step in data["plan"]] == [
        "transitions", "drs-permissions", "eventbridge", "environment", "definition"]


def test_json_root_cause_is_null_when_healthy() -> None:
    assert json.loads(render(diagnose(healthy()), "json"))["root_cause"] is None


def test_text_report_leads_with_the_root_cause_chain_and_fix_then_one_summary_line(broken: Report) -> None:
    text = render(broken, "text", color=False)
    lines = text.rstrip("\n").splitlines()
    assert lines[2] == "ROOT CAUSE"
    assert "[EVT001] rule drs-execution-finder-schedule is DISABLED" in lines[3]
    assert text.index("which explains [EVT004]") < text.index("FIX:") < text.index("The fix plan")
    assert "aws events enable-rule --name drs-execution-finder-schedule" in text
    assert lines[-1] == broken.summary_line()
    assert "\x1b[" not in text  # plain when not a terminal


def test_text_report_in_a_terminal_is_coloured(broken: Report) -> None:
    assert "\x1b[" in render(broken, "text", color=True)


def test_the_long_text_report_groups_every_finding_by_service_with_marks(broken: Report) -> None:
    text = render(broken, "text", color=False, long=True)
    assert "EventBridge\n  ✖ EVT001" in text
    assert "  ✔ EVT002 rule drs-execution-finder-schedule runs on rate(1 minute)" in text


def test_the_default_text_report_lists_only_the_problems(broken: Report) -> None:
    text = render(broken, "text", color=False)
    assert "EVT002" not in text  # a pass: in --long only
    assert f"Findings that failed, warned or could not tell: 5 of {len(broken.findings)}" in text


def test_markdown_report_pastes_into_a_ticket(broken: Report) -> None:
    text = render(broken, "markdown")
    assert text.startswith(f"## drsdoctor: `{broken.target}`")
    assert "### Root cause" in text
    assert "```\naws events enable-rule --name drs-execution-finder-schedule\n```" in text
    assert "| 3 | Is the execution-finder rule enabled" in text
    assert text.count("\n| ") >= len(broken.findings)


def test_sarif_report_is_2_1_0_with_one_rule_per_check_and_one_result_per_finding(broken: Report) -> None:
    data = json.loads(render(broken, "sarif"))
    assert data["version"] == "2.1.0"
    (run,) = data["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len({f.check for f in broken.findings})
    assert len(run["results"]) == len(broken.findings)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        # SARIF 3.27.9: a result whose kind is not "fail" has level "none"
        assert (result["kind"] == "fail") == (result["level"] != "none")
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    failing = [r for r in run["results"] if r["ruleId"] == "EVT001"]
    assert failing[0]["level"] == "error" and failing[0]["properties"]["remediation"].startswith("aws events")


def test_junit_report_has_one_testcase_per_finding(broken: Report) -> None:
    root = ET.fromstring(render(broken, "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(broken.findings) == int(suite.get("tests", "0"))
    assert len([c for c in cases if c.find("failure") is not None]) == int(suite.get("failures", "0")) == 5
    assert len([c for c in cases if c.find("skipped") is not None]) == int(suite.get("skipped", "0"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_a_report_with_errors(fmt: str) -> None:
    from drsdoctor.snapshot import FactError

    snap = healthy(execution=None, history=None, fact_errors=[
        FactError("execution", "states:DescribeExecution", "AccessDeniedException",
                  permission="states:DescribeExecution")])
    text = render(diagnose(snap), fmt, color=False) if fmt == "text" else render(diagnose(snap), fmt)
    assert "states:DescribeExecution" in text


def test_an_unknown_format_is_an_input_error(broken: Report) -> None:
    with pytest.raises(InputError):
        render(broken, "pdf")  # html is a format now
