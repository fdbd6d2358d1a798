"""What every fix command of a diagnosis must be, whatever the fault: an AWS CLI command the CLI itself
accepts (a real operation, valid parameters, its files readable), written as one pasteable line, naming the
deployment's own resources. Used by the tests that run the fault catalogues (tests/diagnose), on the JSON
report's findings, so no fault is run twice."""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path
from typing import Any

from tests.fixes.cli_parse import parse

# the options whose values name a resource of the deployment
RESOURCE_OPTIONS = ("--name", "--rule", "--function-name", "--role-name", "--table-name",
                    "--state-machine-arn", "--source-arn", "--source-server-id", "--stack-name",
                    "--log-group-name", "--job-id")


def deployment_names(world: Any, stack: str) -> set[str]:
    """Every resource the deployment's stacks hold (nested ones too), and its world's DRS servers and jobs."""
    cloudformation, names, stacks = world.client("cloudformation"), set(), [stack]
    while stacks:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stacks.pop())
        for item in (item for page in pages for item in page["StackResourceSummaries"]):
            physical = item.get("PhysicalResourceId", "")
            names.add(named(physical))
            if item["ResourceType"] == "AWS::CloudFormation::Stack" and physical:
                stacks.append(physical)
    drs = world.client("drs")
    servers = drs.get_paginator("describe_source_servers").paginate(filters={})
    names |= {s["sourceServerID"] for page in servers for s in page["items"]}
    names |= {j["jobID"] for page in drs.get_paginator("describe_jobs").paginate(filters={})
              for j in page["items"]}
    return names


def reference_names() -> set[str]:
    """The reference orchestrator's names as the sandbox deploys them (none may appear in a renamed fix)."""
    from drsdoctor.sandbox.orchestrators import reference

    names = reference.orchestrator().names(None)  # type: ignore[arg-type]  # the reference's need no world
    return {name for key, name in names.items() if not key.startswith(("env:", "state:")) and len(name) > 8}


def named(value: str) -> str:
    """The name in an option's value: an ARN's last part, a log group's function."""
    return re.split(r"[:/]", value)[-1]


def check_fixes(findings: list[dict[str, Any]], folder: Path, names: set[str] | None = None,
                forbidden: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Check each failing finding's fix (JSON report form); the command lines checked."""
    checked = []
    for finding in findings:
        fix = finding.get("fix")
        if finding["status"] not in ("fail", "warn") or not fix:
            continue
        for item in fix["files"]:  # where the commands read them, relative to where they run
            path = folder / item["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(item["content"], encoding="utf-8")
        for command in fix["commands"]:
            argv, line = command["argv"], command["line"]
            assert "\n" not in line, line
            if argv[0] != "aws":
                assert argv[0] == "drsdoctor", f"{finding['check']}: {line}"
                continue
            if line == shlex.join(argv):  # a plain command: the line is the argv, quoted
                assert shlex.split(line) == argv
            else:  # a pipeline: its AWS call is a command of its own (it writes what the next one reads)
                assert line.startswith("mkdir -p ") and shlex.join(argv) in line, line
            if line not in checked:  # findings repeat a command (a cause and its mechanism): parsed once
                parse(argv, cwd=str(folder))
            for option, value in itertools.pairwise(argv):
                if option in RESOURCE_OPTIONS and names is not None:
                    assert named(value) in names, f"{finding['check']}: {option} {value}: not deployed"
            leaked = [name for name in forbidden if name in line]
            assert not leaked, f"{finding['check']}: {line} names the reference's {leaked}"
            checked.append(line)
    return checked


def check_root_cause_fix(report: dict[str, Any]) -> None:
    """The root cause ends in a command, never in prose."""
    cause = report["root_cause"]
    assert cause is not None and cause["fix"] is not None, cause
    assert any(c["argv"][0] in ("aws", "drsdoctor") for c in cause["fix"]["commands"]), cause["fix"]
    assert cause["remediation"] == " && ".join(c["line"] for c in cause["fix"]["commands"])
