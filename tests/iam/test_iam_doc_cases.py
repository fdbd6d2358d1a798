"""The documentation table, decided by the public API and by `drsdoctor iam simulate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from iam_doc_cases import CASES, Case

from drsdoctor.cli import cli
from drsdoctor.iam.evaluate import PolicySet, Request, evaluate
from drsdoctor.iam.policy import parse_policy


def _policy_set(case: Case) -> PolicySet:
    return PolicySet(
        identity=[parse_policy(d, f"identity{i}") for i, d in enumerate(case.identity)],
        resource=[parse_policy(d, f"resource{i}", "resource") for i, d in enumerate(case.resource_policies)],
        boundary=parse_policy(case.boundary, "boundary", "boundary") if case.boundary else None,
        scps=[parse_policy(d, f"scp{i}", "scp") for i, d in enumerate(case.scps)],
        session=parse_policy(case.session, "session", "session") if case.session else None,
    )


def _check(case: Case, result: dict) -> None:
    assert result["EvalDecision"] == case.expected, case.url
    if case.by_boundary is not None:
        assert result["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"] is case.by_boundary
    if case.by_organizations is not None:
        assert result["OrganizationsDecisionDetail"]["AllowedByOrganizations"] is case.by_organizations
    if case.missing is not None:
        assert result["MissingContextValues"] == case.missing
    if case.expected == "implicitDeny":
        assert result["MatchedStatements"] == []
    else:
        assert result["MatchedStatements"], "an allow or deny names the statements that decided it"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_documented_case_through_the_api(case: Case) -> None:
    request = Request(case.action, case.resource, dict(case.context), case.principal)
    decision = evaluate(_policy_set(case), request)
    _check(case, decision.to_aws_json())


def _write(directory: Path, name: str, document: dict) -> str:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(document, indent=2))
    return str(path)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_documented_case_through_the_cli(case: Case, tmp_path: Path) -> None:
    args = ["iam", "simulate", "--action", case.action, "--resource", case.resource, "--format", "json"]
    for i, document in enumerate(case.identity):
        args += ["--policy", _write(tmp_path, f"identity{i}", document)]
    for i, document in enumerate(case.resource_policies):
        args += ["--resource-policy", _write(tmp_path, f"resource{i}", document)]
    for i, document in enumerate(case.scps):
        args += ["--scp", _write(tmp_path, f"scp{i}", document)]
    if case.boundary:
        args += ["--boundary", _write(tmp_path, "boundary", case.boundary)]
    if case.session:
        args += ["--session-policy", _write(tmp_path, "session", case.session)]
    if case.principal:
        args += ["--principal-arn", case.principal]
    for key, value in case.context.items():
        for item in value if isinstance(value, list) else [value]:
            args += ["--context", f"{key}={item}"]
    outcome = CliRunner().invoke(cli, args)
    assert outcome.exit_code == (0 if case.expected == "allowed" else 1), outcome.output
    [result] = json.loads(outcome.output)["EvaluationResults"]
    _check(case, result)
