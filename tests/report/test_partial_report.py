"""The report of a run the --timeout budget cut short: each missing fact said once, every call named with
the resource it was about (never `iam:GetRole on  failed`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from builders import healthy, role_arn

from drsdoctor.aws.failures import BUDGET_CODE, AwsFailure
from drsdoctor.aws.session import BudgetExhausted
from drsdoctor.engine import diagnose
from drsdoctor.report import render
from drsdoctor.snapshot import FactError

ROLES = ["drs-orchestration-role", "drs-execution-finder-role", "drs-execution-poller-role", "drs-sfn-role"]


def _cut_short() -> object:
    """The roles' policies not read: the budget ran out at each role's GetRole, as diagnose --timeout saw."""
    snap = healthy(role_decisions=[], fact_errors=[
        FactError(fact="role_decisions", call="iam:GetRole", code=BUDGET_CODE, resource=role_arn(name),
                  message="no answer within the 5 s --timeout to iam:GetRole") for name in ROLES])
    snap.notes.append("the --timeout budget ran out before these facts were collected: role_decisions")
    return diagnose(snap)


def test_a_call_retried_until_the_budget_ran_out_names_no_empty_resource() -> None:
    busy = AwsFailure("iam", "GetRole", "", "ServiceUnavailable", "busy", kind="other")
    said = str(BudgetExhausted("iam", "GetRole", "", after=busy, budget=5))
    assert " on  " not in said and "on failed" not in said
    assert said == ("iam:GetRole failed: ServiceUnavailable: busy "
                    "(tried again until the 5 s --timeout ran out)")


def test_the_partial_text_report_says_each_missing_fact_once() -> None:
    report = _cut_short()
    text = render(report, "text", color=False)
    lines = text.splitlines()
    findings = lines[lines.index(next(line for line in lines if line.startswith("Findings that"))):]
    # one line for the three checks it kept blind (not a line a check), and never twice on a line
    assert len([line for line in findings if "could not read role_decisions" in line]) == 1, text
    assert all(line.count("could not read role_decisions") <= 1 for line in lines), text
    grouped = "? IAM001, IAM002, IAM003, XAC002 could not read role_decisions"  # every check that reads it
    assert any(line.lstrip().startswith(grouped) for line in lines)


def test_the_plan_answers_an_unread_fact_once() -> None:
    plan = json.loads(render(_cut_short(), "json"))["plan"]
    (permissions,) = [step for step in plan if step["step"] == "drs-permissions"]
    assert permissions["status"] == "error"
    assert permissions["answer"].count("could not read role_decisions") == 1
