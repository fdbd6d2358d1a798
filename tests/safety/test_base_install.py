"""The base install (`pip install drsdoctor`, no extras) runs every command an incident needs.

One subprocess in which the packages only the extras bring (moto, jsonata, the aws CLI, cfn-lint and what it
pulls: sympy, networkx, pydantic...) cannot be imported, as after a plain `pip install drsdoctor`; it runs
diagnose (from a bundle), diff-stacks, iam simulate, checks and permissions in turn and prints each exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
EXTRAS_ONLY = ("moto", "jsonata", "awscli", "cfnlint", "cfn_tools", "cfn_flip", "sympy", "networkx",
               "pydantic", "samtranslator", "werkzeug", "flask", "jsonschema", "docker")

RUN = '''
import contextlib, io, json, sys


class ExtrasOnly:
    """What only an extra installs, missing as after `pip install drsdoctor`."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


BLOCKED = set(json.loads(sys.argv[1]))
sys.meta_path.insert(0, ExtrasOnly())
from drsdoctor.cli import main

codes = {}
for args in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as done:
            codes[args[0]] = [done.code, err.getvalue()[-500:]]
print(json.dumps(codes))
'''


def test_every_incident_command_runs_without_any_extra(tmp_path: Path) -> None:
    from tests.checks.builders import healthy

    bundle = tmp_path / "facts.json"
    healthy().save(bundle)
    templates, policies = ROOT / "examples" / "templates", ROOT / "examples" / "policies"
    commands = [
        ["diagnose", "--from-bundle", str(bundle), "--format", "json"],
        ["diff-stacks", str(templates / "archive.yaml"), str(templates / "current.yaml")],
        ["iam", "simulate", "--policy", str(policies / "drs-poller.json"), "--action", "drs:DescribeJobs"],
        ["checks"],
        ["permissions"],
        ["demo"],
    ]
    env = {key: value for key, value in os.environ.items() if key != "DRSDOCTOR_DEBUG"}
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(EXTRAS_ONLY), json.dumps(commands)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    assert {name: code for name, (code, _) in codes.items()} == {
        "diagnose": 0, "diff-stacks": 1, "iam": 0, "checks": 0, "permissions": 0, "demo": 2}, codes
    assert codes["demo"][1].strip() == "drsdoctor: the sandbox needs moto: pip install 'drsdoctor[sandbox]'"
