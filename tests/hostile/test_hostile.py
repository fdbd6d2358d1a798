"""Every inspecting command against every hostile endpoint: exit 3, one line that names the failure, no
verdict, and the --timeout holds. Real CLI subprocesses against one loopback server (server.py), all at once.

The deadline is measured from the first request the run sent (its DRSDOCTOR_CALL_LOG line) to the end of
the process: interpreter start and imports, which a loaded test machine stretches, come before the budget
starts and are not what --timeout bounds.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from drsdoctor import exitcodes
from tests.hostile.forkserver import ForkServer
from tests.hostile.server import MODES, HostileServer

# --timeout for each mode: the modes that never answer, or whose every answer is retried, cost this much wall
# time; the others end on their own at once, and a long budget costs them nothing (and spares a loaded test
# machine from saying "no answer" where the endpoint did answer).
BUDGET = {"no-answer": 3.0, "drip": 3.0, "html-500": 4.0, "throttled": 4.0}
QUICK = 10.0
GRACE = 2.0  # what the run may take past its budget: giving up, the one line, the exit
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
EXECUTION = f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:drs-orchestrator:run-42"
MACHINE = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:drs-orchestrator"
COMMANDS = {
    "diagnose": ["diagnose", EXECUTION],
    "diagnose --running": ["diagnose", "--state-machine", MACHINE, "--running"],
    "diff-stacks": ["diff-stacks", "drs-orchestrator-prod", str(ROOT / "examples/templates/current.yaml")],
    "iam simulate": ["iam", "simulate", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/drs-poller",
                     "--action", "drs:DescribeJobs"],
}
# What the one line must say for each mode, in the operator's words.
SAYS = {
    "no-answer": "no answer within the 3 s --timeout",
    "drip": "no answer within the 3 s --timeout",
    "html-500": "HTTP 500 (HTML)",
    "malformed-json": "not an AWS endpoint: its answer",  # not valid JSON; XML services: not readable
    "truncated": "not an AWS endpoint: the answer was cut short",
    "reset-mid-body": "not an AWS endpoint: the answer was cut short",
    "web-page": "not an AWS endpoint: it answered a web page",
    "expired-token": "credentials expired",
    "invalid-key": "credentials not valid for this endpoint",
    "access-denied": "AccessDenied: ",
    "throttled": "throttled: ",
}
# Beyond the nine modes, two more are asked of diagnose alone (each subprocess costs a second of CPU).
ONLY_DIAGNOSE = ("web-page", "throttled")
# The first call each command makes: an AccessDenied line names it, with the permission it needs.
FIRST_CALL = {"diagnose": "states:DescribeExecution", "diagnose --running": "states:",
              "diff-stacks": "cloudformation:DescribeStacks", "iam simulate": "iam:GetRole"}


@dataclass(frozen=True)
class Outcome:
    mode: str
    command: str
    code: int
    stdout: str
    stderr: str
    seconds: float  # the whole subprocess
    after_first_request: float  # from the first request sent to the end of the process

    def __str__(self) -> str:
        return (f"{self.command} against {self.mode}: exit {self.code} after {self.seconds:.1f} s "
                f"({self.after_first_request:.1f} s after its first request)\nstdout: {self.stdout[:500]!r}\n"
                f"stderr: {self.stderr[:500]!r}")


def run(server: HostileServer, mode: str, command: str, trail: Path,
        forks: ForkServer | None = None) -> Outcome:
    """One command against one mode, in its own process: forked from `forks` (the interpreter and its imports
    made once), else a fresh interpreter."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DRSDOCTOR_"))}
    env.update(AWS_ACCESS_KEY_ID="AKIAHOSTILE", AWS_SECRET_ACCESS_KEY="hostile",
               AWS_DEFAULT_REGION="eu-west-1", DRSDOCTOR_CALL_LOG=str(trail))
    args = [*COMMANDS[command], "--endpoint-url", server.url(mode),
            "--timeout", f"{BUDGET.get(mode, QUICK):g}"]
    started = time.monotonic()
    if forks is not None:
        done = forks.run(args, env=env, timeout=120)
    else:
        done = subprocess.run([sys.executable, "-m", "drsdoctor", *args], capture_output=True, text=True,
                              timeout=120, env=env, cwd=ROOT)
    ended = datetime.datetime.now(datetime.timezone.utc)
    seconds = time.monotonic() - started
    lines = [json.loads(line) for line in trail.read_text().splitlines()] if trail.exists() else []
    first = min((datetime.datetime.fromisoformat(line["time"]) for line in lines), default=ended)
    return Outcome(mode, command, done.returncode, done.stdout, done.stderr, seconds,
                   (ended - first).total_seconds())


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Outcome]]:
    """Every command against every mode, each a process forked from one that imported drsdoctor once; four at
    a time (two cores: more only queue, and a starved run spends its budget before its first request)."""
    folder = tmp_path_factory.mktemp("hostile")
    cases = [(mode, command) for mode in MODES for command in COMMANDS
             if mode not in ONLY_DIAGNOSE or command == "diagnose"]
    with HostileServer() as server, ForkServer(ROOT) as forks, ThreadPoolExecutor(max_workers=4) as pool:
        # the modes that wait out the budget first, so they overlap the quick ones
        cases.sort(key=lambda case: case[0] not in BUDGET)
        yield list(pool.map(lambda case: run(server, case[0], case[1],
                                             folder / f"{case[0]}-{case[1]}.jsonl", forks), cases))


def test_every_command_against_every_mode_is_one_line_and_exit_3(outcomes: list[Outcome]) -> None:
    held = [item for item in outcomes if _holds(item)]
    broken = "\n\n".join(str(item) for item in outcomes if item not in held)
    expected = (len(MODES) - len(ONLY_DIAGNOSE)) * len(COMMANDS) + len(ONLY_DIAGNOSE)
    assert len(held) == len(outcomes) == expected, broken


def _holds(item: Outcome) -> bool:
    lines = item.stderr.splitlines()
    said = lines[0] if len(lines) == 1 else ""
    if item.mode == "access-denied" and FIRST_CALL[item.command] not in said:
        return False
    return (item.code == exitcodes.INCOMPLETE and said.startswith("drsdoctor: ") and SAYS[item.mode] in said
            and "Traceback" not in item.stderr and "internal error" not in said
            and item.stdout.strip() == ""  # no report, so no verdict: not a finding, not a root cause
            and (item.mode == "access-denied") == ("(needs " in said))  # a grant fixes only a denial


def test_the_budget_holds_against_every_mode(outcomes: list[Outcome]) -> None:
    late = [str(item) for item in outcomes if item.after_first_request > BUDGET.get(item.mode, QUICK) + GRACE]
    assert late == []


def test_every_mode_was_asked(outcomes: list[Outcome]) -> None:
    assert {item.mode for item in outcomes} == set(MODES) == set(SAYS)
