"""What deploying another orchestrator costs: sandbox start and `drsdoctor demo` wall time for each
orchestrator, side by side in one run, alternating so a busy machine weighs on each alike.

For each orchestrator, --repeat times: `Sandbox.start` (deploy, seed, prewarm) timed in this process, and a
healthy recovery run to the end; then `drsdoctor demo --orchestrator NAME` as a user runs it (deploy, run,
diagnose) in a child process. Prints the medians and each one's ratio to the reference's.

    .venv/bin/python benchmarks/bench_orchestrators.py [--repeat 3] [--orchestrator renamed:7 ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drsdoctor.sandbox.world import Sandbox

REFERENCE = "reference"


def start_and_run(orchestrator: str) -> tuple[float, float, str]:
    started = time.monotonic()
    with Sandbox.start(orchestrator=orchestrator) as world:
        up = time.monotonic()
        outcome = world.run_until_settled(world.start_recovery())
        return up - started, time.monotonic() - up, outcome.status


def demo(orchestrator: str) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "demo", "--orchestrator", orchestrator],
                          capture_output=True, text=True, timeout=600)
    return time.monotonic() - started, done.returncode


def figures(orchestrators: list[str], repeat: int) -> dict[str, dict[str, Any]]:
    samples: dict[str, dict[str, list[float]]] = {name: {"start": [], "run": [], "demo": []}
                                                  for name in orchestrators}
    statuses: dict[str, set[Any]] = {name: set() for name in orchestrators}
    for _ in range(repeat):
        for name in orchestrators:
            start, run, status = start_and_run(name)
            wall, code = demo(name)
            samples[name]["start"].append(start)
            samples[name]["run"].append(run)
            samples[name]["demo"].append(wall)
            statuses[name] |= {status, f"demo exit {code}"}
    result = {}
    for name in orchestrators:
        medians = {key: statistics.median(values) for key, values in samples[name].items()}
        base = {key: statistics.median(values) for key, values in samples[REFERENCE].items()}
        result[name] = {**{f"{key}_s": round(value, 2) for key, value in medians.items()},
                        **{f"{key}_ratio": round(value / base[key], 2) for key, value in medians.items()},
                        "outcomes": sorted(statuses[name])}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--orchestrator", action="append", default=[], metavar="NAME")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    orchestrators = [REFERENCE, *(args.orchestrator or ["renamed:7"])]
    result = figures(orchestrators, args.repeat)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'orchestrator':<14} {'start s':>8} {'x':>5} {'run s':>7} {'x':>5} {'demo s':>7} {'x':>5}"
          "  outcomes")
    for name, row in result.items():
        outcomes = ", ".join(row["outcomes"])
        print(f"{name:<14} {row['start_s']:>8} {row['start_ratio']:>5} {row['run_s']:>7} "
              f"{row['run_ratio']:>5} {row['demo_s']:>7} {row['demo_ratio']:>5}  {outcomes}")


if __name__ == "__main__":
    main()
