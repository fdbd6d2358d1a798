"""Acceptance through the CLI: `drsdoctor diagnose` in a subprocess against `drsdoctor sandbox serve --fault
NAME` names every fault of the catalogue as the root cause, exits as documented, and sends only reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from drsdoctor import exitcodes
from drsdoctor.aws import is_read_operation
from tests.diagnose.conftest import EXPECTED, Served, calls_in_verbose_output, create_operator, run_cli, serve

pytestmark = pytest.mark.slow


@pytest.fixture(params=["none", *sorted(EXPECTED)])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, Served]]:
    for world in serve(request.param):
        yield request.param, world


def test_the_cli_names_the_root_cause_against_sandbox_serve(served: tuple[str, Served]) -> None:
    fault, world = served
    credentials = create_operator(world.client("iam"), "operator")
    arn = world.run_recovery()
    done = run_cli("diagnose", arn, "--format", "json", "-v", credentials=credentials,
                   endpoint_url=world.endpoint_url)
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["schema"] == "drsdoctor.report/1"
    calls = calls_in_verbose_output(done.stderr)
    assert calls and all(is_read_operation(service, operation) for service, operation in calls), calls
    if fault == "none":
        assert done.returncode == exitcodes.OK, done.stdout
        assert report["root_cause"] is None
        assert not [f for f in report["findings"] if f["status"] == "fail"]
        return
    checks, word = EXPECTED[fault]
    assert done.returncode == exitcodes.PROBLEMS, done.stderr
    cause = report["root_cause"]
    assert cause is not None and cause["check"] in checks, cause
    assert word in json.dumps(cause)
