"""The drs-recovery-plan catalogue, each fault diagnosed: the figure for the closing note.

One sandbox world of the drs-recovery-plan orchestrator; for each fault of its catalogue (and none), switched
in that world: start the plan, move the clock until the run ends (or stays stuck), diagnose the execution as
an operator would (`--plan-role` the operator role), and print one row: the fault, how the run ended, the
check named as the root cause, and its summary.

    .venv/bin/python benchmarks/recovery_plan_catalogue.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drsdoctor.aws.session import AwsSession, AwsSettings
from drsdoctor.commands.diagnose_plan import diagnose_plan_execution
from drsdoctor.sandbox.world import Sandbox

ORCHESTRATOR = "drs-recovery-plan"


def diagnose_each() -> list[dict[str, Any]]:
    rows = []
    with Sandbox.start(orchestrator=ORCHESTRATOR, run_clock=False) as world:
        for fault in ["none", *world.orchestrator.faults]:
            world.switch_fault(fault)
            arn = world.start_recovery()
            for _ in range(40):
                if world.orchestrator.status(world, arn) != "RUNNING":
                    break
                world.clock.advance(60)
            session = AwsSession(AwsSettings(region=world.region, endpoint_url=world.endpoint_url),
                                 _boto=world.session())
            started = time.monotonic()
            _, report = diagnose_plan_execution(arn, session, plan_role=world.outputs["OperatorRoleArn"])
            cause = report.root_cause.finding if report.root_cause else None
            rows.append({"fault": fault, "run": world.orchestrator.status(world, arn),
                         "exit": report.exit_code, "root_cause": cause.check if cause else "-",
                         "summary": cause.detail if cause else report.summary_line(),
                         "diagnose_seconds": round(time.monotonic() - started, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    rows = diagnose_each()
    if parser.parse_args().json:
        print(json.dumps(rows, indent=2))
        return
    print("| fault | run | exit | root cause | what it names |")
    print("|---|---|---|---|---|")
    for row in rows:
        summary = row["summary"].replace("|", "/")
        print(f"| {row['fault']} | {row['run']} | {row['exit']} | {row['root_cause']} | {summary[:170]} |")


if __name__ == "__main__":
    main()
