"""`diagnose --state-machine ARN --running` with 1 versus 50 running executions: wall time and peak memory.

One sandbox world (in this process, its clock stopped so every execution stays RUNNING as long as the
benchmark needs; each runs its own one-server plan, as executions of one plan would fight over its servers).
DRS allows 20 jobs in progress: 20 executions wait for their wave, the other 30 retry a wave start that DRS
refused with ServiceQuotaExceededException (and get a root cause of their own).
The diagnosing runs in a child process against the world's endpoint, so the world's own threads do not share
its interpreter: the child times the call alone (not its start-up), with its own CPU time beside it (what is
not CPU is waiting on the sandbox); its peak memory comes from one more run under tracemalloc, which would
slow the timed runs.

  1. one running execution: `diagnose --state-machine ARN --running` (and `diagnose EXECUTION_ARN`);
  2. fifty running executions: the same command. Target: within 3x the time of one.

    .venv/bin/python benchmarks/bench_running.py [--executions 50] [--repeat 3] [--json]
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 3.0
SETTLED = ("WaitStateEntered", "LambdaFunctionFailed")  # the newest event of an execution that moves no more


# ---- the child: one diagnosis, timed and traced ------------------------------------------------------------

def child(mode: str, arn: str, endpoint_url: str, trace: str) -> dict[str, Any]:
    import resource
    import tracemalloc

    from drsdoctor.aws import AwsSession, AwsSettings

    if trace == "trace":
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    if mode == "machine":
        from drsdoctor.collect.fleet import POOL_CONNECTIONS
        from drsdoctor.commands.diagnose_fleet import diagnose_machine

        session = AwsSession(AwsSettings(endpoint_url=endpoint_url, max_pool_connections=POOL_CONNECTIONS))
        fleet = diagnose_machine(arn, session)
        rows, causes = len(fleet.rows), fleet.root_causes()
    else:
        from drsdoctor.commands.diagnose import diagnose_execution

        session = AwsSession(AwsSettings(endpoint_url=endpoint_url))
        _, report = diagnose_execution(arn, session)
        rows, causes = 1, ({report.root_cause.finding.check: 1} if report.root_cause else {})
    seconds = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = cpu.ru_utime - cpu_started.ru_utime + cpu.ru_stime - cpu_started.ru_stime
    _, peak = tracemalloc.get_traced_memory()
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak / 2**20, "rows": rows,
            "calls": len(session.call_log), "root_causes": causes}


def run_child(mode: str, arn: str, endpoint_url: str, credentials: dict[str, str],
              trace: bool = False) -> dict[str, Any]:
    env = {**os.environ, **credentials, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_ENDPOINT_URL", None)
    command = [sys.executable, __file__, "--child", mode, arn, endpoint_url, "trace" if trace else "time"]
    done = subprocess.run(command, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"the diagnosing child failed: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def median_of(repeat: int, mode: str, arn: str, endpoint_url: str,
              credentials: dict[str, str]) -> dict[str, Any]:
    runs = [run_child(mode, arn, endpoint_url, credentials) for _ in range(repeat)]
    middle = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    traced = run_child(mode, arn, endpoint_url, credentials, trace=True)
    return {**middle, "seconds": statistics.median(run["seconds"] for run in runs),
            "cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
            "peak_mb": traced["peak_mb"]}


# ---- the world: N executions waiting for their wave --------------------------------------------------------

def start_executions(world: Any, first: int, count: int) -> list[str]:
    """Seed `count` one-server plans, start an execution of each, and wait until each has settled: waiting
    for its wave, or (past DRS's quota of 20 jobs in progress) retrying a wave start DRS refused. Both stay
    RUNNING while the clock is stopped (the second kind is what a recovery too big for DRS looks like)."""
    from drsdoctor.reference.records import protection_group, recovery_plan

    tables = world.resource("dynamodb")
    groups = tables.Table(world.outputs["ProtectionGroupsTableName"])
    plans = tables.Table(world.outputs["RecoveryPlansTableName"])
    arns = []
    for number in range(first, first + count):
        server = world.drs.add_source_server(f"bench-{number}").source_server_id
        groups.put_item(Item=protection_group(f"pg-bench-{number}", f"bench {number}", [server]))
        plans.put_item(Item=recovery_plan(f"plan-bench-{number}", f"bench {number}",
                                          [("only", [f"pg-bench-{number}"])]))
        arns.append(world.start_recovery(f"plan-bench-{number}", name=f"bench-{number}"))
    sfn = world.client("stepfunctions")
    waiting: set[str] = set()
    deadline = time.monotonic() + 60 + 10 * count
    while len(waiting) < len(arns) and time.monotonic() < deadline:
        for arn in set(arns) - waiting:
            events = sfn.get_execution_history(executionArn=arn)["events"]
            newest = max(events, key=lambda event: int(event["id"]))["type"] if events else ""
            if newest in SETTLED:
                waiting.add(arn)
        time.sleep(0.2)
    if len(waiting) < len(arns):
        raise SystemExit(f"only {len(waiting)} of {len(arns)} executions settled")
    return arns


def measure(executions: int = 50, repeat: int = 3) -> dict[str, Any]:
    """The figures of one run; what run_all.py's `running` measure reads."""
    from drsdoctor.sandbox.world import Sandbox
    from tests.diagnose.conftest import create_operator

    with Sandbox.start(run_clock=False) as world:
        credentials = create_operator(world.client("iam"), "bench-operator")
        machine, endpoint = world.state_machine_arn, world.endpoint_url
        first = start_executions(world, 0, 1)[0]
        single = median_of(repeat, "execution", first, endpoint, credentials)
        one = median_of(repeat, "machine", machine, endpoint, credentials)
        start_executions(world, 1, executions - 1)
        many = median_of(repeat, "machine", machine, endpoint, credentials)
    if one["rows"] != 1 or many["rows"] != executions:
        raise SystemExit(f"expected 1 and {executions} rows, got {one['rows']} and {many['rows']}")
    return {"executions": executions, "repeat": repeat, "single_execution": single, "one": one, "many": many,
            "ratio": round(many["seconds"] / one["seconds"], 2), "target_ratio": TARGET_RATIO}


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(*sys.argv[2:6])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # tests.diagnose.conftest's operator, as the other benchmarks make one
    figures = measure(args.executions, args.repeat)
    if args.json:
        print(json.dumps(figures))
        return
    one, many, single = figures["one"], figures["many"], figures["single_execution"]
    for label, run in (("diagnose EXECUTION_ARN", single), ("--state-machine --running, 1 running", one),
                       (f"--state-machine --running, {figures['executions']} running", many)):
        print(f"{label:<42} {run['seconds']:6.2f} s ({run['cpu_seconds']:.2f} s CPU), "
              f"peak {run['peak_mb']:5.1f} MB (tracemalloc), "
              f"{run['calls']} calls, root causes {run['root_causes'] or 'none'}")
    verdict = "within" if figures["ratio"] <= TARGET_RATIO else "OVER"
    print(f"ratio {figures['ratio']}x ({verdict} the {TARGET_RATIO:.0f}x target), median of {args.repeat}")


if __name__ == "__main__":
    main()
