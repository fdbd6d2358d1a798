"""The suite's witness that inspecting never changes anything: every AWS request any AwsSession sends during
the tests (CLI subprocesses included: they inherit DRSDOCTOR_CALL_LOG) lands in a per-worker audit trail,
and a test during which a mutating call was sent, or a call was refused unasked, errors in its teardown."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from drsdoctor.aws.audit import ENV_VAR, describe, is_unsafe, read_trail

pytest_plugins = ["pytester"]

EXPECTS_REFUSED = "expects_refused_calls"  # a test proving the guard refuses: refused calls are its point
TALLY = "drsdoctor_aws_calls"  # key of a worker's counts in xdist's workeroutput


@dataclass
class Tally:
    """Counts over the tests a process ran: calls sent, tests that sent any, calls refused as expected,
    mutating calls sent; sent calls by drsdoctor command."""

    sent: int = 0
    tests: int = 0
    refused: int = 0
    mutating: int = 0
    commands: Counter[str] = field(default_factory=Counter)

    def add(self, other: dict[str, Any]) -> None:
        self.sent += other["sent"]
        self.tests += other["tests"]
        self.refused += other["refused"]
        self.mutating += other["mutating"]
        self.commands.update(other["commands"])

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "tests": self.tests, "refused": self.refused, "mutating": self.mutating,
                "commands": dict(self.commands)}

    def line(self) -> str:
        return (f"AWS calls recorded: {self.sent} sent by inspecting commands in {self.tests} tests, "
                f"{self.mutating} mutating")


@dataclass
class Recorder:
    """Reads the trail after each test: what was appended since the last test is this test's."""

    path: str
    previous: str | None
    offset: int = 0
    tally: Tally = field(default_factory=Tally)

    def problems_of(self, item: pytest.Item) -> list[str]:
        entries, self.offset = read_trail(self.path, self.offset)
        refusals_expected = item.get_closest_marker(EXPECTS_REFUSED) is not None
        sent = [entry for entry in entries if not entry.get("refused")]
        self.tally.sent += len(sent)
        self.tally.tests += bool(sent)
        self.tally.refused += sum(1 for entry in entries if entry.get("refused") and refusals_expected)
        self.tally.commands.update(str(entry.get("command")) for entry in sent)
        unsafe = [entry for entry in entries if is_unsafe(entry, refusals_expected)]
        self.tally.mutating += sum(1 for entry in unsafe if not entry.get("refused"))
        problems = [describe(entry) for entry in unsafe]
        if os.environ.get(ENV_VAR) != self.path:  # else every later test's calls would go unrecorded
            problems.append(f"{ENV_VAR} was changed and not restored (now {os.environ.get(ENV_VAR)!r})")
            os.environ[ENV_VAR] = self.path
        return problems


RECORDER = pytest.StashKey[Recorder]()
TOTAL = pytest.StashKey[Tally]()


def _is_xdist_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_configure(config: pytest.Config) -> None:
    # The terminal running the suite must not shape reports: a test that wants a width or no colour says so.
    for variable in ("COLUMNS", "LINES", "NO_COLOR"):
        os.environ.pop(variable, None)
    config.stash[TOTAL] = Tally()
    if _is_xdist_controller(config):
        return  # the workers run the tests and record; the controller adds up what they report
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    descriptor, path = tempfile.mkstemp(prefix=f"drsdoctor-calls-{worker}-", suffix=".jsonl")
    os.close(descriptor)
    config.stash[RECORDER] = Recorder(path, os.environ.get(ENV_VAR))
    os.environ[ENV_VAR] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    recorder = config.stash.get(RECORDER, None)
    if recorder is None:
        return
    if recorder.previous is None:
        os.environ.pop(ENV_VAR, None)
    else:
        os.environ[ENV_VAR] = recorder.previous
    os.unlink(recorder.path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """Once the fixtures are torn down (a module's world, with its last test): judge this test's calls."""
    recorder = item.config.stash.get(RECORDER, None)
    try:
        yield
    finally:
        problems = recorder.problems_of(item) if recorder is not None else []
        if problems:
            refused = any(") refused by" in problem for problem in problems)
            hint = f"\n(a test that proves the guard refuses marks itself @pytest.mark.{EXPECTS_REFUSED})"
            pytest.fail("the AWS call recorder found what inspecting must never do:\n  "
                        + "\n  ".join(problems) + (hint if refused else ""), pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    recorder = config.stash.get(RECORDER, None)
    if recorder is not None:
        if hasattr(config, "workerinput"):
            config.workeroutput[TALLY] = recorder.tally.as_dict()  # type: ignore[attr-defined]
            return
        config.stash[TOTAL] = recorder.tally
    # A recorder that records nothing proves nothing: the whole suite must have seen calls.
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS and not config.option.keyword \
        and not config.option.markexpr and not config.option.collectonly
    if whole_suite and session.exitstatus == pytest.ExitCode.OK and config.stash[TOTAL].sent == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist, on the controller: a worker finished; add its counts."""
    counts = getattr(node, "workeroutput", {}).get(TALLY)
    if counts is not None:
        node.config.stash[TOTAL].add(counts)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    total = config.stash[TOTAL]
    terminalreporter.write_line(total.line())
    if total.commands:
        named = {"-": "AwsSession in a test"}
        by_command = ", ".join(f"{named.get(command, command)} {count}"
                               for command, count in total.commands.most_common())
        terminalreporter.write_line(f"  by command: {by_command}; refused where a test expected it: "
                                    f"{total.refused}")
    if total.sent == 0 and config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        terminalreporter.write_line("the AWS call recorder recorded nothing: it proves nothing", red=True)
