"""What learning the orchestrator costs: diagnose's AWS calls and wall time on a healthy reference run, with
the topology (this tree) side by side with the collector that knew the reference's names (commit 3482100,
measured the same way on the same machine: 54 calls, 1.63 s). The target: at most 1.3x the calls.

    .venv/bin/python benchmarks/bench_topology.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

BEFORE = {"commit": "3482100", "calls": 54, "wall_seconds": 1.63}
LIMIT = 1.3


def measure(repeat: int) -> dict[str, object]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "sandbox")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox")
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.commands.diagnose import diagnose_execution
    from drsdoctor.sandbox.world import Sandbox

    with Sandbox.start() as world:
        arn = world.start_recovery()
        world.run_until_settled(arn)
        calls, walls, exit_code = [], [], None
        for _ in range(repeat):
            session = AwsSession(AwsSettings(endpoint_url=world.endpoint_url))
            started = time.monotonic()
            _, report = diagnose_execution(arn, session)
            walls.append(time.monotonic() - started)
            calls.append(len(session.call_log))
            exit_code = report.exit_code
    now = {"calls": max(calls), "wall_seconds": round(statistics.median(walls), 2), "exit": exit_code}
    return {"before": BEFORE, "now": now, "calls_ratio": round(now["calls"] / BEFORE["calls"], 2),
            "within_limit": now["calls"] <= LIMIT * BEFORE["calls"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    before, now = result["before"], result["now"]
    assert isinstance(before, dict) and isinstance(now, dict)
    print(f"{'':28}{'calls':>8}{'wall (s)':>10}")
    print(f"{'names (' + before['commit'] + ')':28}{before['calls']:>8}{before['wall_seconds']:>10}")
    print(f"{'topology (this tree)':28}{now['calls']:>8}{now['wall_seconds']:>10}")
    verdict = "ok" if result["within_limit"] else "OVER"
    print(f"calls ratio {result['calls_ratio']} (limit {LIMIT}): {verdict}")


if __name__ == "__main__":
    main()
