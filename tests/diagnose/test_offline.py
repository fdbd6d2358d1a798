"""diagnose's decisions that need no AWS at all: bundles and what the exit code means."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from drsdoctor import exitcodes
from drsdoctor.engine import diagnose
from drsdoctor.snapshot import FactError, Function, Snapshot, fact_actions
from tests.diagnose.conftest import run_cli

ARN = "arn:aws:states:us-east-1:123456789012:execution:drs-orchestrator-dev-recovery:run-1"


def test_nothing_gathered_is_exit_3_with_a_report(tmp_path: Path) -> None:
    snap = Snapshot(target=ARN, region="us-east-1", account="123456789012", fact_errors=[
        FactError(fact=name, call=actions[0], code="AccessDeniedException",
                  permission=actions[0]) for name, actions in fact_actions().items()])
    assert diagnose(snap).exit_code == exitcodes.INCOMPLETE
    bundle = tmp_path / "denied.json"
    snap.save(bundle)
    done = run_cli("diagnose", "--from-bundle", str(bundle), "--format", "json", credentials={})
    assert done.returncode == exitcodes.INCOMPLETE, done.stderr
    report = json.loads(done.stdout)  # the partial report is still printed
    assert report["findings"] and all(f["status"] in ("error", "skip") for f in report["findings"])


def test_a_saved_bundle_is_diagnosed_offline_with_secrets_redacted(tmp_path: Path) -> None:
    snap = Snapshot(target=ARN, region="us-east-1", account="123456789012", functions=[Function(
        name="drs-orchestrator-dev-orchestration", kind="orchestration",
        environment={"EXECUTION_TABLE": "drs-orchestrator-dev-execution-history", "DB_PASSWORD": "hunter2",
                     "WEBHOOK": "https://hooks.example.com/T000/B000/XXXX"})])
    source = tmp_path / "source.json"
    snap.save(source)
    saved = tmp_path / "saved.json"
    done = run_cli("diagnose", "--from-bundle", str(source), "--save-bundle", str(saved), credentials={})
    assert done.returncode in (exitcodes.OK, exitcodes.PROBLEMS, exitcodes.INCOMPLETE), done.stderr
    text = saved.read_text()
    assert "hunter2" not in text and "hooks.example.com" not in text
    again = Snapshot.load(saved)
    environment = again.functions[0].environment
    assert environment["EXECUTION_TABLE"] == "drs-orchestrator-dev-execution-history"
    assert dataclasses.replace(again, functions=[], collected_at=None) == dataclasses.replace(
        snap, functions=[], collected_at=None)


def test_a_bundle_of_another_execution_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    Snapshot(target=ARN).save(bundle)
    other = ARN.replace("run-1", "run-2")
    done = run_cli("diagnose", other, "--from-bundle", str(bundle), credentials={})
    assert done.returncode == exitcodes.USAGE and "is about" in done.stderr


def test_check_and_skip_choose_the_checks(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    Snapshot(target=ARN, region="us-east-1", account="123456789012").save(bundle)
    only = run_cli("diagnose", "--from-bundle", str(bundle), "--check", "EVT001", "--format", "json",
                   credentials={})
    assert {f["check"] for f in json.loads(only.stdout)["findings"]} == {"EVT001"}
    skipped = run_cli("diagnose", "--from-bundle", str(bundle), "--skip", "EVT001", "--format", "json",
                      credentials={})
    checks = {f["check"] for f in json.loads(skipped.stdout)["findings"]}
    assert "EVT001" not in checks and len(checks) > 5
    unknown = run_cli("diagnose", "--from-bundle", str(bundle), "--check", "NOPE999", credentials={})
    assert unknown.returncode == exitcodes.USAGE and "NOPE999" in unknown.stderr
