"""Nested stacks in template files: children found from their S3 TemplateURL, compared under their path."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drsdoctor.diff.engine import diff_sources
from drsdoctor.diff.model import DiffResult
from drsdoctor.diff.sources import load_sources

TREE = Path(__file__).parent / "nested"
LOST = "                  - drs:CreateRecoveryInstanceForDrs\n"


def diff(first: Path, second: Path, given_b: dict[str, str] | None = None,
         template_root: Path | None = None) -> DiffResult:
    return diff_sources(*load_sources(str(first), str(second), {}, given_b or {}, None, template_root))


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive's checkout where the Lambda stack's orchestration role lost one DRS action."""
    root = tmp_path_factory.mktemp("current")
    shutil.copytree(TREE, root, dirs_exist_ok=True)
    child = root / "cfn" / "lambda-stack.yaml"
    text = child.read_text()
    assert LOST in text
    child.write_text(text.replace(LOST, ""))
    return root / "cfn" / "master-template.yaml"


ARCHIVE = TREE / "cfn" / "master-template.yaml"


def test_children_are_found_by_the_longest_suffix_of_their_url() -> None:
    result = diff(ARCHIVE, ARCHIVE, {"Environment": "current"})
    assert result.changes == [] and result.a.unread == []
    assert {"LambdaStack/OrchestrationRole", "DatabaseStack/ExecutionHistoryTable",
            "StepFunctionsStack/RecoveryStateMachine"} <= set(result.b.resources)


def test_a_role_inside_a_child_losing_one_action_is_the_one_high_change(current: Path) -> None:
    result = diff(ARCHIVE, current)
    high = [c for c in result.changes if c.risk == "high"]
    assert [(c.resource, c.category) for c in high] == [("LambdaStack/OrchestrationRole", "iam")]
    assert "LambdaStack/OrchestrationRole loses drs:CreateRecoveryInstanceForDrs" in high[0].summary
    assert {c.resource for c in result.changes} == {"LambdaStack/OrchestrationRole"}


def test_a_condition_inside_a_child_sees_the_value_passed_down() -> None:
    production = diff(ARCHIVE, ARCHIVE, {"Environment": "prod"}).changes
    assert [(c.resource, c.kind) for c in production] == [("LambdaStack/ProductionAlarmTopic", "added")]
    quiet = diff(ARCHIVE, ARCHIVE, {"EnableNotifications": "false"}).changes
    assert ("LambdaStack/NotificationTopic", "removed") in {(c.resource, c.kind) for c in quiet}


def test_a_child_without_a_local_file_is_named_with_the_reason(tmp_path: Path) -> None:
    lone = tmp_path / "master.yaml"
    shutil.copy(ARCHIVE, lone)
    result = diff(lone, ARCHIVE)
    notes = [n for n in result.a.unread if n.startswith("LambdaStack:")]
    assert len(notes) == 1 and "nested stack not followed" in notes[0]
    assert "https://s3.amazonaws.com/drs-orch-templates/cfn/lambda-stack.yaml" in notes[0]
    assert "--template-root" in notes[0]
    # the other side's children are not all "added": both compare that stack as a resource alone
    assert result.changes == []
    # the same root with the checkout given as the template root: followed, nothing left unread
    followed = diff(lone, ARCHIVE, template_root=TREE)
    assert followed.changes == [] and followed.a.unread == []


def test_a_template_that_nests_itself_is_named_not_followed_forever(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.write_text(
        "Resources:\n  Again:\n    Type: AWS::CloudFormation::Stack\n"
        "    Properties: {TemplateURL: 'https://s3.amazonaws.com/bucket/loop.yaml'}\n"
    )
    result = diff(loop, loop)
    assert any("nests itself" in note for note in result.a.unread)


def test_the_cli_follows_children_under_template_root_and_exits_1(tmp_path: Path, current: Path) -> None:
    lone = tmp_path / "master.yaml"
    shutil.copy(ARCHIVE, lone)
    run = subprocess.run(
        [sys.executable, "-m", "drsdoctor", "diff-stacks", str(lone), str(current),
         "--template-root", str(TREE), "--fail-on", "high"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1, run.stderr
    assert "LambdaStack/OrchestrationRole loses drs:CreateRecoveryInstanceForDrs" in run.stdout
    assert "not followed" not in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "drsdoctor", "diff-stacks", str(lone), str(current),
         "--template-root", str(tmp_path / "missing")],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_resource_renamed_inside_a_child_is_one_rename_and_its_references_follow(tmp_path: Path) -> None:
    shutil.copytree(TREE, tmp_path, dirs_exist_ok=True)
    child = tmp_path / "cfn" / "step-functions-stack.yaml"
    child.write_text(child.read_text().replace("StateMachineRole", "RecoveryStateMachineRole"))
    changes = diff(ARCHIVE, tmp_path / "cfn" / "master-template.yaml").changes
    assert [(c.resource, c.path, c.risk) for c in changes] == [
        ("StepFunctionsStack/RecoveryStateMachineRole", "LogicalId", "low")
    ]
