"""`drsdoctor iam simulate` as an operator runs it: exit codes, text and JSON output, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from drsdoctor.cli import cli
from drsdoctor.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "policies"
MISSING = str(EXAMPLES / "drs-starter-missing-create-recovery-instance.json")
COMPLETE = str(EXAMPLES / "drs-starter-complete.json")
TEMPLATE = str(Path(__file__).parent / "fixtures" / "orchestrator-role.yaml")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drsdoctor", "iam", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--policy", COMPLETE, "--role-kind", "orchestration"], 0),
        (["--policy", MISSING, "--role-kind", "orchestration"], 1),
        (["--policy", MISSING, "--action", "drs:StartRecovery", "--context", "no-equals-sign"], 2),
    ],
)
def test_exit_codes_in_a_real_process(args: list[str], code: int) -> None:
    done = _run(*args)
    assert done.returncode == code, done.stderr
    if code == 2:
        assert done.stderr.startswith("drsdoctor: --context 'no-equals-sign' must be KEY=VALUE")
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_an_invalid_policy_exits_2_naming_file_statement_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Permit",'
        ' "Action": "drs:*", "Resource": "*"}\n  ]\n}\n'
    )
    done = _run("--policy", str(bad), "--action", "drs:StartRecovery")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"drsdoctor: {bad} line 4: statement [0], field Effect: "
        'Effect must be "Allow" or "Deny", not \'Permit\''
    )


def test_missing_follow_on_action_is_named_with_why_and_source() -> None:
    outcome = CliRunner().invoke(
        cli, ["iam", "simulate", "--policy", MISSING, "--role-kind", "orchestration"]
    )
    assert outcome.exit_code == 1
    lines = outcome.output.splitlines()
    [denied] = [line for line in lines if line.startswith("drs:CreateRecoveryInstanceForDrs")]
    assert "implicitDeny" in denied and "[follow-on]" in denied
    assert "https://docs.aws.amazon.com/drs/latest/userguide/drs-apis.html" in outcome.output
    assert lines[-1].startswith(
        "43 of 44 actions allowed on * (engine: local); not allowed: drs:CreateRecoveryInstanceForDrs"
    )


def test_json_output_uses_simulate_principal_policy_field_names(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    outcome = CliRunner().invoke(
        cli,
        [
            "iam",
            "simulate",
            "--policy",
            MISSING,
            "--action",
            "drs:StartRecovery",
            "--action",
            "drs:CreateRecoveryInstanceForDrs",
            "--format",
            "json",
            "--output",
            str(out),
        ],
    )
    assert outcome.exit_code == 1
    assert outcome.output == ""
    report = json.loads(out.read_text())
    allowed, denied = report["EvaluationResults"]
    assert allowed["EvalActionName"] == "drs:StartRecovery"
    assert allowed["EvalResourceName"] == "*"
    assert allowed["EvalDecision"] == "allowed"
    assert allowed["MatchedStatements"] == [
        {
            "SourcePolicyId": MISSING,
            "SourcePolicyType": "IAM Policy",
            "StatementId": "StartWaves",
            "StartPosition": {"Line": 4, "Column": 5},
        }
    ]
    assert denied["EvalDecision"] == "implicitDeny"
    assert report["Engine"] == "local"


def test_boundary_and_scp_details_appear_in_json() -> None:
    outcome = CliRunner().invoke(
        cli,
        [
            "iam",
            "simulate",
            "--policy",
            COMPLETE,
            "--boundary",
            str(EXAMPLES / "boundary-orchestrator.json"),
            "--scp",
            str(EXAMPLES / "scp-region-guard.json"),
            "--action",
            "iam:PassRole",
            "--action",
            "drs:StartRecovery",
            "--resource",
            "arn:aws:iam::111122223333:role/AWSElasticDisasterRecoveryRecoveryInstanceRole",
            "--context",
            "aws:RequestedRegion=eu-central-1",
            "--format",
            "json",
        ],
    )
    assert outcome.exit_code == 1
    passrole, start = json.loads(outcome.output)["EvaluationResults"]
    assert passrole["EvalDecision"] == "allowed"  # iam:* is outside the SCP's region guard
    assert passrole["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert start["EvalDecision"] == "explicitDeny"
    assert start["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}


def test_template_role_is_simulated() -> None:
    outcome = CliRunner().invoke(
        cli,
        [
            "iam",
            "simulate",
            "--template",
            TEMPLATE,
            "--role",
            "OrchestrationRole",
            "--action",
            "drs:StartRecovery",
            "--action",
            "ec2:CreateTags",
        ],
    )
    assert outcome.exit_code == 1
    assert "ec2:CreateTags" in outcome.output and "not allowed by the permissions boundary" in outcome.output
    assert "1 of 2 actions allowed" in outcome.output


def test_repeated_context_key_is_multivalued(tmp_path: Path) -> None:
    policy = tmp_path / "tags.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "ec2:CreateTags",
                        "Resource": "*",
                        "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["dr-*"]}},
                    }
                ],
            }
        )
    )
    base = ["iam", "simulate", "--policy", str(policy), "--action", "ec2:CreateTags"]
    good = CliRunner().invoke(
        cli, [*base, "--context", "aws:TagKeys=dr-wave", "--context", "aws:TagKeys=dr-plan"]
    )
    bad = CliRunner().invoke(
        cli, [*base, "--context", "aws:TagKeys=dr-wave", "--context", "aws:TagKeys=owner"]
    )
    assert (good.exit_code, bad.exit_code) == (0, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", COMPLETE], "give --action (repeatable) or --role-kind"),
        (["--action", "drs:StartRecovery"], "nothing to simulate"),
        (["--template", TEMPLATE, "--action", "drs:StartRecovery"], "--template and --role go together"),
        (
            ["--policy", "/no/such/file.json", "--action", "drs:StartRecovery"],
            "cannot read policy /no/such/file.json",
        ),
        (["--policy", COMPLETE, "--action", "StartRecovery"], "'StartRecovery' is not an action"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = _run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_importing_the_command_does_not_import_boto3() -> None:
    code = "import sys, drsdoctor.commands.iam; print('boto3' in sys.modules or 'botocore' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == "False"


def test_role_kind_json_says_why_each_action_is_needed() -> None:
    outcome = CliRunner().invoke(
        cli, ["iam", "simulate", "--policy", MISSING, "--role-kind", "orchestration", "--format", "json"]
    )
    report = json.loads(outcome.output)
    assert report["schema"] == "drsdoctor.iam/1"
    [create] = [
        r for r in report["EvaluationResults"] if r["EvalActionName"] == "drs:CreateRecoveryInstanceForDrs"
    ]
    assert create["EvalDecision"] == "implicitDeny"
    assert create["Need"]["FollowOn"] is True
    assert create["Need"]["Source"].startswith("https://docs.aws.amazon.com/")


def test_template_parameters_make_arns_concrete() -> None:
    table = "arn:aws:dynamodb:eu-west-1:111122223333:table/staging-execution-history"
    args = [
        "iam",
        "simulate",
        "--template",
        TEMPLATE,
        "--role",
        "OrchestrationRole",
        "--action",
        "dynamodb:PutItem",
        "--resource",
        table,
        "--parameter",
        "Env=staging",
    ]
    symbolic = CliRunner().invoke(cli, args)
    concrete = CliRunner().invoke(
        cli, [*args, "--parameter", "AWS::AccountId=111122223333", "--parameter", "AWS::Region=eu-west-1"]
    )
    assert (symbolic.exit_code, concrete.exit_code) == (1, 0)
    bad = CliRunner().invoke(cli, [*args, "--parameter", "no-equals"])
    assert isinstance(bad.exception, InputError)  # drsdoctor's main turns it into exit 2
    assert "must be NAME=VALUE" in str(bad.exception)
