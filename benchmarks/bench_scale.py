"""Does diagnose stay fast on a large recovery plan? The small plan (3 waves of 2 servers) against 10 waves of
200 servers (2,000 source servers), side by side in one run.

For each plan, in this process: a sandbox world seeded with the plan, one server of its last wave failing to
launch (its replication stalled, as the server-launch-failure fault does), the recovery run until it fails
in that last wave (the sandbox run time is reported), the clock paused; then diagnose (collect and check,
as `drsdoctor diagnose` does) as an operator with exactly `drsdoctor permissions`, in a child process so the
sandbox's own work does not share its interpreter: one warm-up run, --repeat timed runs (the median), and one
more under tracemalloc for its peak memory. The large plan should diagnose within 2x of the small one and
name the failing server. run_all.py calls it with --json (scale_figures() is the same in-process).

    .venv/bin/python benchmarks/bench_scale.py [--repeat 3] [--waves 10] [--servers-per-wave 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drsdoctor.sandbox.seed import PlanSize

FAILURE_REASON = "Replication of the source server is stalled; no recent snapshot to launch from"
SMALL = None  # the sandbox's default plan: 3 waves of 2 servers
TARGET_RATIO = 2.0
# Simulated seconds per real second: slower than the sandbox's 600 so a busy machine's slow functions never
# look like a stuck recovery (moto takes about a second to read or write a 2,000-server record).
SPEED = 150.0


@dataclass
class Scale:
    """One plan's figures."""

    plan: str
    servers: int
    run_status: str
    run_seconds: float  # the recovery in the sandbox, real seconds (the world's start not included)
    start_seconds: float  # deploy and seed the world
    diagnose_seconds: float  # median of the timed runs
    peak_mb: float  # tracemalloc's peak during one more diagnose
    api_calls: int
    root_cause: str
    names_failing_server: bool
    slowest_calls: str  # the calls diagnose waited on longest (summed per operation, a run)


def measure(size: PlanSize | None, repeat: int) -> Scale:
    """A world with this plan, its last wave failing on one server, diagnosed `repeat` times."""
    from drsdoctor.sandbox.world import Sandbox

    started = time.perf_counter()
    with Sandbox.start(plan=size, speed=SPEED) as world:
        start_seconds = time.perf_counter() - started
        plan = world.plans[0]
        failing = plan.waves[-1].source_server_ids[-1]
        world.drs.set_replication(failing, "STALLED")
        world.drs.set_outcome(failing, "FAILED", FAILURE_REASON)
        arn = world.start_recovery()
        outcome = world.run_until_settled(arn, real_timeout=900)
        world.clock.pause()  # nothing moves while diagnose reads: both plans measured alike
        figures = _diagnose_in_child(world.endpoint_url, _operator(world), arn, repeat)
    cause, names = figures["root_cause"], failing in figures["root_cause_text"]
    return Scale(plan=plan.name, servers=len(plan.source_server_ids), run_status=outcome.status,
                 run_seconds=round(outcome.wall_seconds, 1), start_seconds=round(start_seconds, 1),
                 diagnose_seconds=figures["seconds"], peak_mb=figures["peak_mb"], api_calls=figures["calls"],
                 root_cause=cause, names_failing_server=names, slowest_calls=figures["slowest_calls"])
def _operator(world: Any) -> dict[str, str]:
    """An IAM user allowed exactly what drsdoctor reads (the DRS simulator judges its calls)."""
    from drsdoctor.snapshot import fact_actions

    iam = world.client("iam")
    actions = sorted({action for actions in fact_actions().values() for action in actions})
    iam.create_user(UserName="bench-scale")
    iam.put_user_policy(UserName="bench-scale", PolicyName="drsdoctor-read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bench-scale")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _diagnose_in_child(endpoint_url: str, credentials: dict[str, str], arn: str,
                       repeat: int) -> dict[str, Any]:
    """diagnose in its own process, as the CLI runs it: the sandbox's own work (serving, simulating) is not
    diagnose's, and must not share its interpreter lock."""
    env = {**os.environ, **credentials, "AWS_ENDPOINT_URL": endpoint_url, "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, __file__, "--child", arn, "--repeat", str(repeat)], env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"diagnose in the child failed: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _child(arn: str, repeat: int) -> dict[str, Any]:
    """One untimed diagnose (imports, first clients), `repeat` timed ones, one under tracemalloc."""
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.commands.diagnose import diagnose_execution

    def once() -> tuple[float, Any, int]:
        session = AwsSession(AwsSettings(endpoint_url=os.environ["AWS_ENDPOINT_URL"]))
        started = time.perf_counter()
        _, report = diagnose_execution(arn, session)
        for record in session.call_log.records:
            key = f"{record.service}:{record.operation}"
            slowest[key] = slowest.get(key, 0.0) + record.duration_ms / (repeat + 2)
        return time.perf_counter() - started, report, len(session.call_log.records)

    slowest: dict[str, float] = {}  # operation -> milliseconds a run, summed over its calls

    once()
    runs = [once() for _ in range(repeat)]
    tracemalloc.start()
    once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report, calls = runs[-1][1], runs[-1][2]
    cause = report.root_cause.finding if report.root_cause else None
    top = sorted(slowest.items(), key=lambda item: -item[1])[:4]
    return {"seconds": round(statistics.median(run[0] for run in runs), 2), "peak_mb": round(peak / 2**20, 1),
            "slowest_calls": ", ".join(f"{name} {ms:.0f} ms" for name, ms in top),
            "calls": calls, "root_cause": f"{cause.check}: {cause.detail[:120]}" if cause else "none",
            "root_cause_text": " ".join([cause.check, cause.resource, cause.detail, *cause.evidence])
            if cause else ""}


def scale_figures(repeat: int = 3, waves: int = 10, servers_per_wave: int = 200) -> dict[str, Any]:
    """Both plans measured, and the ratio of their diagnose times: what run_all.py reports."""
    small = measure(SMALL, repeat)
    large = measure(PlanSize(waves, servers_per_wave), repeat)
    return {"small": asdict(small), "large": asdict(large),
            "ratio": round(large.diagnose_seconds / small.diagnose_seconds, 2), "target_ratio": TARGET_RATIO}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--servers-per-wave", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--child", metavar="EXECUTION_ARN", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.repeat)))
        return
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    figures = scale_figures(args.repeat, args.waves, args.servers_per_wave)
    if args.json:
        print(json.dumps(figures))
        return
    for key in ("small", "large"):
        item = figures[key]
        print(f"{item['plan']:>28} ({item['servers']:>4} servers): "
              f"diagnose {item['diagnose_seconds']:6.2f} s "
              f"(median of {args.repeat}), peak {item['peak_mb']:6.1f} MB, {item['api_calls']} calls; "
              f"run {item['run_status']} in {item['run_seconds']} s (start {item['start_seconds']} s)")
        print(f"{'':>28}  root cause {item['root_cause']}; names the failing server: "
              f"{item['names_failing_server']}")
        print(f"{'':>28}  slowest calls: {item['slowest_calls']}")
    print(f"large / small diagnose: {figures['ratio']}x (aim <= {TARGET_RATIO}x)")


if __name__ == "__main__":
    main()
