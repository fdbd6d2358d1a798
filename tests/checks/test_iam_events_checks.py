"""IAM and EventBridge checks: role permissions, the finder's rule, its schedule, target and invocations."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from builders import NOW, RULE_ARN, Snapshot, findings, fn_arn, healthy, run, statuses, stuck

from drsdoctor.snapshot import Decision, FactError, RuleTarget


def deny(snap: Snapshot, kind: str, action: str, decision: str = "implicitDeny") -> Snapshot:
    role = snap.role(kind)
    assert role is not None
    role.decisions = [Decision(action, decision, "*", "no statement matched") if d.action == action else d
                      for d in role.decisions]
    return snap


def unlaunched() -> Snapshot:
    """No job of this execution launched a server: nothing contradicts a policy evaluation."""
    snap = healthy()
    for server in snap.drs_jobs[0].servers:
        server.launch_status = "FAILED"
    return snap


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("everything allowed", healthy, {"pass"}),
    ("StartRecovery missing", lambda: deny(unlaunched(), "orchestration", "drs:StartRecovery"), {"fail"}),
    ("follow-on missing", lambda: deny(unlaunched(), "orchestration", "drs:CreateRecoveryInstanceForDrs"),
     {"fail"}),
    ("explicit deny", lambda: deny(unlaunched(), "orchestration", "ec2:RunInstances", "explicitDeny"),
     {"fail"}),
    ("not evaluated", lambda: healthy(role_decisions=[]), {"skip"}),
])
def test_iam001_orchestration_role(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("IAM001", build()) == expected


def test_iam001_a_missing_follow_on_action_explains_servers_not_launched_and_fix_is_a_policy() -> None:
    (finding,) = findings("IAM001", deny(unlaunched(), "orchestration", "drs:CreateRecoveryInstanceForDrs"))
    assert finding.explains == ("servers-not-launched",)
    assert "with this role's credentials" in finding.detail
    assert "--role-name drs-orchestration-role" in finding.remediation
    assert '"Action":["drs:CreateRecoveryInstanceForDrs"]' in finding.remediation


def test_iam001_an_explicit_deny_is_fixed_by_removing_the_deny_not_by_adding_an_allow() -> None:
    (finding,) = findings("IAM001", deny(unlaunched(), "orchestration", "ec2:RunInstances", "explicitDeny"))
    assert "explicitly denies ec2:RunInstances" in finding.detail
    assert finding.remediation.startswith("Remove the Deny of ec2:RunInstances")


def test_iam002_reports_the_poller_role_alone_when_only_it_lacks_a_permission() -> None:
    result = run("IAM002", deny(healthy(), "poller", "drs:DescribeJobs"))
    assert sorted(result) == [("fail", "arn:aws:iam::123456789012:role/drs-poller-role"),
                              ("pass", "arn:aws:iam::123456789012:role/drs-finder-role")]


def test_iam003_state_machine_role_must_invoke_functions() -> None:
    assert statuses("IAM003", healthy()) == {"pass"}
    assert statuses("IAM003", deny(healthy(), "statemachine", "lambda:InvokeFunction")) == {"fail"}


def test_iam_checks_report_error_not_pass_when_roles_could_not_be_read() -> None:
    snap = healthy(role_decisions=[], fact_errors=[FactError(
        "role_decisions", "iam:GetRolePolicy", "AccessDenied", "drs-orchestration-role",
        permission="iam:GetRolePolicy")])
    (finding,) = findings("IAM001", snap)
    assert finding.status == "error" and "iam:GetRolePolicy" in finding.detail


def disabled() -> Snapshot:
    snap = stuck()
    snap.rules[0].state = "DISABLED"
    return snap


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("enabled", healthy, {"pass"}),
    ("disabled", disabled, {"fail"}),
    ("no rule at all", lambda: healthy(rules=[]), {"fail"}),
    ("no finder identified", lambda: healthy(functions=[]), {"skip"}),
])
def test_evt001_finder_rule_enabled(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("EVT001", build()) == expected


def test_evt001_fix_names_the_real_rule() -> None:
    (finding,) = findings("EVT001", disabled())
    assert finding.remediation == "aws events enable-rule --name drs-execution-finder-schedule"
    assert finding.resource == RULE_ARN


@pytest.mark.parametrize(("expression", "expected"), [
    ("rate(1 minute)", "pass"),
    ("rate(5 minutes)", "pass"),
    ("cron(0/1 * * * ? *)", "pass"),
    ("rate(1 minutes)", "fail"),
    ("rate(2 minute)", "fail"),
    ("rate(0 minutes)", "fail"),
    ("rate(1 fortnight)", "fail"),
    ("cron(* * * * *)", "fail"),
    ("cron(0 * * * * *)", "fail"),
    ("every minute", "fail"),
    ("rate(30 minutes)", "warn"),
    ("", "fail"),
])
def test_evt002_schedule_valid(expression: str, expected: str) -> None:
    snap = healthy()
    snap.rules[0].schedule_expression = expression or None
    assert statuses("EVT002", snap) == {expected}


def test_evt003_passes_when_events_may_invoke_the_finder() -> None:
    assert statuses("EVT003", healthy()) == {"pass"}


@pytest.mark.parametrize(("name", "policy"), [
    ("no policy", None),
    ("another rule's source", {"ArnLike": {"AWS:SourceArn": RULE_ARN + "-old"}}),
    ("another principal", "s3"),
    ("explicit deny", "deny"),
])
def test_evt003_fails_when_the_rule_may_not_invoke_its_target(name: str, policy: object) -> None:
    snap = healthy()
    finder = snap.function_of_kind("finder")
    assert finder is not None and finder.policy is not None
    document = json.loads(finder.policy)
    statement = document["Statement"][0]
    if policy is None:
        finder.policy = None
    else:
        if isinstance(policy, dict):
            statement["Condition"] = policy
        elif policy == "s3":
            statement["Principal"] = {"Service": "s3.amazonaws.com"}
        else:
            document["Statement"].append({**statement, "Sid": "no", "Effect": "Deny"})
        finder.policy = json.dumps(document)
    (finding,) = findings("EVT003", snap)
    assert finding.status == "fail"
    assert finding.remediation.startswith("aws lambda add-permission --function-name drs-execution-finder")
    assert f"--source-arn {RULE_ARN}" in finding.remediation


def test_evt003_fails_when_the_target_function_does_not_exist() -> None:
    snap = healthy()
    snap.rules[0].targets = [RuleTarget("finder", fn_arn("drs-execution-finder-old"))]
    snap.rules[0].targets.append(RuleTarget("finder2", fn_arn("drs-execution-finder")))
    assert sorted(run("EVT003", snap)) == [("fail", fn_arn("drs-execution-finder-old")),
                                           ("pass", fn_arn("drs-execution-finder"))]


def test_evt003_is_an_error_when_the_policy_could_not_be_read() -> None:
    snap = healthy(fact_errors=[FactError("functions", "lambda:GetPolicy", "AccessDeniedException",
                                          "drs-execution-finder", permission="lambda:GetPolicy")])
    finder = snap.function_of_kind("finder")
    assert finder is not None
    finder.policy = None
    assert statuses("EVT003", snap) == {"error"}


def quiet_since(minutes: int) -> Snapshot:
    snap = stuck()
    for function in snap.functions_of_kind("finder", "poller"):
        function.last_invocation = NOW - timedelta(minutes=minutes)
    return snap


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("ended execution", healthy, {"skip"}),
    ("invoked a minute ago", lambda: quiet_since(1), {"pass"}),
    ("silent for 38 minutes", lambda: quiet_since(38), {"fail"}),
])
def test_evt004_invocations_recent(name: str, build: Callable[[], Snapshot], expected: set[str]) -> None:
    assert statuses("EVT004", build()) == expected


def test_evt004_poller_is_not_due_between_waves() -> None:
    snap = quiet_since(38)
    assert snap.execution_record is not None
    snap.execution_record.status = "RUNNING"
    result = dict((resource, status) for status, resource in run("EVT004", snap))
    assert result == {fn_arn("drs-execution-finder"): "fail", fn_arn("drs-execution-poller"): "skip"}


def test_a_role_missing_only_logging_permissions_is_a_warning_not_a_cause() -> None:
    snap = healthy()
    role = snap.role("poller")
    assert role is not None
    role.decisions.append(Decision("logs:PutLogEvents", "implicitDeny"))
    (finding,) = [f for f in findings("IAM002", snap) if f.resource.endswith("drs-poller-role")]
    assert finding.status == "warn" and finding.explains == ()
    assert "leaves no logs" in finding.detail


def test_the_missing_drs_action_is_named_before_a_long_list_of_ec2_ones() -> None:
    snap = unlaunched()
    role = snap.role("orchestration")
    assert role is not None
    role.decisions = [Decision(f"ec2:Action{n:02}", "implicitDeny") for n in range(20)] + [
        Decision("drs:CreateRecoveryInstanceForDrs", "implicitDeny")]
    (finding,) = findings("IAM001", snap)
    assert finding.detail.startswith("the orchestration role drs-orchestration-role does not allow "
                                     "drs:CreateRecoveryInstanceForDrs, ec2:Action00")
    assert "and 15 more" in finding.detail


def test_iam001_a_denial_contradicted_by_a_launched_job_is_a_doubt_not_a_cause() -> None:
    snap = deny(healthy(), "orchestration", "drs:StartRecovery")  # yet drsjob-1 launched both servers
    snap = deny(snap, "orchestration", "dynamodb:UpdateItem")
    result = {f.status: f for f in findings("IAM001", snap)}
    assert set(result) == {"warn", "fail"}
    assert "yet job drsjob-1 launched servers" in result["warn"].detail
    assert result["warn"].explains == () and "simulate-principal-policy" in result["warn"].remediation
    assert "dynamodb:UpdateItem" in result["fail"].detail and "StartRecovery" not in result["fail"].detail
