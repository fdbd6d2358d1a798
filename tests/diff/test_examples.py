"""The example templates: each planted difference is reported with its category and risk, nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.model import DiffResult
from drsdoctor.diff.sources import load_sources

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = ROOT / "examples" / "templates" / "archive.yaml"
CURRENT = ROOT / "examples" / "templates" / "current.yaml"

# (resource, category, risk, a phrase of the summary) for each difference planted in current.yaml
PLANTED = [
    ("ExecutionPollerRole", "iam", "high", "loses drs:DescribeJobs"),
    ("ExecutionFinderSchedule", "rule", "high", "ENABLED -> DISABLED"),
    ("ExecutionPollerFunction", "env", "high", "EXECUTION_TABLE"),
    ("RecoveryStateMachine", "statemachine", "high", "'Completed'"),
    ("ExecutionHistoryTable", "table", "high", "index StatusIndex removed"),
    ("ExecutionPollerFunction", "function", "medium", "Timeout: 60 -> 3"),
    ("ExecutionPollerFunction", "function", "medium", "MemorySize: 128 -> 256"),
    ("ExecutionPollerRoleArn", "output", "low", "output added"),
]
# what follows from a planted difference: the statement behind the lost permission, the index's attribute
CONSEQUENCES = {
    ("ExecutionPollerRole", "iam", "medium"),
    ("ExecutionHistoryTable", "table", "low"),
}


@pytest.fixture(scope="module")
def planted() -> DiffResult:
    return diff_sources(*load_sources(str(ARCHIVE), str(CURRENT), {}, {}, None))


@pytest.mark.parametrize(("resource", "category", "risk", "phrase"), PLANTED, ids=[p[3] for p in PLANTED])
def test_planted_difference_is_reported(
    planted: DiffResult, resource: str, category: str, risk: str, phrase: str
) -> None:
    matching = [c for c in planted.changes if (c.resource, c.category, c.risk) == (resource, category, risk)]
    assert any(phrase in c.summary for c in matching), [c.summary for c in planted.changes]


def test_nothing_else_is_reported(planted: DiffResult) -> None:
    allowed = {(r, c, k) for r, c, k, _ in PLANTED} | CONSEQUENCES
    extra = [c.summary for c in planted.changes if (c.resource, c.category, c.risk) not in allowed]
    assert extra == []


def test_changes_come_highest_risk_first(planted: DiffResult) -> None:
    order = ["high", "medium", "low"]
    risks = [order.index(c.risk) for c in planted.changes]
    assert risks == sorted(risks)


def test_archive_equals_the_reference_with_its_parameters() -> None:
    assert diff_sources(*load_sources(str(ARCHIVE), "reference", {}, {}, None)).changes == []


def test_a_template_against_itself_with_another_environment_is_identical() -> None:
    result = diff_sources(*load_sources(str(ARCHIVE), str(ARCHIVE), {}, {"EnvironmentName": "prod"}, None))
    assert result.changes == []


def test_a_changed_setting_parameter_is_reported_with_its_effect() -> None:
    result = diff_sources(*load_sources(str(ARCHIVE), str(ARCHIVE), {}, {"PollIntervalSeconds": "60"}, None))
    assert {(c.resource, c.category) for c in result.changes} == {
        ("PollIntervalSeconds", "parameter"),
        ("OrchestrationFunction", "env"),
    }


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drsdoctor", "diff-stacks", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_cli_identical_exits_0() -> None:
    done = run(str(ARCHIVE), "reference")
    assert done.returncode == 0, done.stderr
    assert "identical" in done.stdout


def test_cli_different_exits_1_and_json_follows_the_schema() -> None:
    done = run(str(ARCHIVE), str(CURRENT), "--format", "json")
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["schema"] == "drsdoctor.diff/1"
    assert document["summary"]["high"] == 5
    for item in document["changes"]:
        assert set(item) >= {
            "resource",
            "type",
            "kind",
            "category",
            "path",
            "before",
            "after",
            "risk",
            "summary",
        }
        assert item["kind"] in ("added", "removed", "modified")
        assert item["risk"] in ("high", "medium", "low")


def test_cli_fail_on_high_ignores_low_only_differences(tmp_path: Path) -> None:
    text = ARCHIVE.read_text().replace(
        "Description: Runs the execution-finder every minute.", "Description: Runs the finder each minute."
    )
    edited = tmp_path / "described.yaml"
    edited.write_text(text)
    assert run(str(ARCHIVE), str(edited), "--fail-on", "high").returncode == 0
    assert run(str(ARCHIVE), str(edited)).returncode == 1


TOPIC = "Resources:\n  A:\n    Type: AWS::SNS::Topic\n"
BAD = {
    "missing.yaml": None,
    "invalid.yaml": "Resources: [unclosed\n",
    "duplicate.yaml": "Resources:\n  A:\n    Type: AWS::SNS::Topic\n  A:\n    Type: AWS::SNS::Topic\n",
    "intrinsic.yaml": TOPIC + "    Properties:\n      TopicName: !Frobnicate x\n",
    "notatemplate.json": '{"name": "package.json", "version": "1.0"}',
    "badref.yaml": TOPIC + "    Properties:\n      TopicName: !Ref Nope\n",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_cli_bad_input_exits_2_with_one_line_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if BAD[name] is not None:
        path.write_text(BAD[name])
    done = run(str(path), str(ARCHIVE))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "line"), [("duplicate.yaml", ":2"), ("intrinsic.yaml", ":5"), ("badref.yaml", ":5")]
)
def test_bad_input_names_the_line(tmp_path: Path, name: str, line: str) -> None:
    path = tmp_path / name
    path.write_text(BAD[name])
    assert f"{name}{line}" in run(str(path), str(ARCHIVE)).stderr


def test_cli_markdown_and_sarif(tmp_path: Path) -> None:
    out = tmp_path / "diff.sarif"
    assert run(str(ARCHIVE), str(CURRENT), "--format", "sarif", "--output", str(out)).returncode == 1
    log = json.loads(out.read_text())
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert {r["level"] for r in results} == {"error", "warning", "note"}
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    markdown = run(str(ARCHIVE), str(CURRENT), "--format", "markdown").stdout
    assert "| - | high | iam | `ExecutionPollerRole` |" in markdown
    assert "## IAM statement changes" in markdown


def test_text_hides_equal_parts_unless_long() -> None:
    short = run(str(ARCHIVE), str(CURRENT)).stdout
    long = run(str(ARCHIVE), str(CURRENT), "--long").stdout
    assert "unchanged:" not in short and "= unchanged:" in long
    assert "OrchestrationFunction" not in short and "OrchestrationFunction" in long
    assert "IAM statement changes" in short
