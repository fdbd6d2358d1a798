"""How long does diagnose take to give up on a hostile endpoint, under --timeout 10?

For each mode of the hostile-endpoint harness (tests/hostile/server.py: never answers, drips a byte a second,
HTML 500, malformed JSON, a body cut short, a reset mid-body, a web page, expired token, invalid key,
AccessDenied on every call, throttled on every call): the seconds from starting `drsdoctor diagnose
EXECUTION_ARN --timeout 10` as a subprocess to its exit 3, median of --repeat runs, and the one line it
printed. Modes run one at a time, so each measures the command, not the machine's queue.

    .venv/bin/python benchmarks/bench_hostile.py [--repeat 3] [--timeout 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile.server import MODES, HostileServer  # noqa: E402

EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:drs-orchestrator:run-42"


def one_run(server: HostileServer, mode: str, budget: float) -> tuple[float, int, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DRSDOCTOR_"))}
    env.update(AWS_ACCESS_KEY_ID="AKIAHOSTILE", AWS_SECRET_ACCESS_KEY="hostile",
               AWS_DEFAULT_REGION="eu-west-1")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "drsdoctor", "diagnose", EXECUTION, "--endpoint-url",
                           server.url(mode), "--timeout", f"{budget:g}"], capture_output=True, text=True,
                          timeout=budget + 120, env=env, cwd=ROOT)
    lines = done.stderr.strip().splitlines()
    return time.monotonic() - started, done.returncode, lines[-1] if lines else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with HostileServer() as server:
        for mode in MODES:
            runs = [one_run(server, mode, args.timeout) for _ in range(args.repeat)]
            rows.append({"mode": mode, "median_seconds": round(statistics.median(r[0] for r in runs), 2),
                         "exit_codes": sorted({r[1] for r in runs}), "held": all(
                             r[1] == 3 and r[0] <= args.timeout + 2 for r in runs), "line": runs[-1][2]})
    if args.json:
        print(json.dumps({"timeout": args.timeout, "repeat": args.repeat, "modes": rows}, indent=2))
        return
    print(f"diagnose --timeout {args.timeout:g} against each hostile mode (median of {args.repeat}):")
    for row in rows:
        print(f"  {row['mode']:<15} {row['median_seconds']:6.2f} s  exit {row['exit_codes']}  "
              f"{'held' if row['held'] else 'LATE'}  {row['line'][:110]}")


if __name__ == "__main__":
    main()
