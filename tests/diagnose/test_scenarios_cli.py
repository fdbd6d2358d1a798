"""Acceptance through the CLI: `drsdoctor diagnose` in a subprocess against `drsdoctor sandbox serve` names
every fault of the catalogue as the root cause, exits as documented, and sends only reads.

One served world stands for every scenario: each switches the world to its fault through `fault_url` (the
fault before it repaired, through the same AWS APIs), runs a recovery, diagnoses that execution, and ends it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drsdoctor import exitcodes
from drsdoctor.aws import is_read_operation
from drsdoctor.sandbox.seed import plan_layout
from tests.diagnose.conftest import EXPECTED, Served, calls_in_verbose_output, create_operator, run_cli, serve
from tests.fixes.catalogue import check_fixes, check_root_cause_fix, deployment_names
from tests.report.screen import check_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world() -> Iterator[Served]:
    yield from serve()


@pytest.fixture(scope="module")
def credentials(world: Served) -> dict[str, str]:
    return create_operator(world.client("iam"), "operator")


@pytest.fixture(params=["none", *sorted(EXPECTED)])
def served(request: pytest.FixtureRequest, world: Served) -> Iterator[tuple[str, Served]]:
    world.switch_fault(request.param)
    try:
        yield request.param, world
    finally:
        world.end_recoveries()


def test_the_cli_names_the_root_cause_against_sandbox_serve(served: tuple[str, Served],
                                                            credentials: dict[str, str],
                                                            tmp_path: Path) -> None:
    fault, world = served
    arn = world.run_recovery()
    bundle = tmp_path / "bundle.json"
    done = run_cli("diagnose", arn, "--format", "json", "-v", "--save-bundle", str(bundle),
                   credentials=credentials, endpoint_url=world.endpoint_url)
    assert "Traceback" not in done.stderr
    # the text report of the same facts fits an 80x50 terminal, and its times agree (tests/report/screen.py)
    check_bundle(bundle)
    report = json.loads(done.stdout)
    assert report["schema"] == "drsdoctor.report/1"
    waves = [lane["title"] for lane in report["timeline"]["lanes"] if lane["kind"] == "wave"]  # a lane a wave
    assert waves == [f"wave {n} {name}" for n, (name, _, _) in enumerate(plan_layout(None)[2], 1)]
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
    # every fix a command the AWS CLI accepts, on this deployment's resources; the root cause's among them
    check_root_cause_fix(report)
    assert check_fixes(report["findings"], tmp_path, deployment_names(world, world.info["stack_name"]))
