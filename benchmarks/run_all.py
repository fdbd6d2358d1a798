"""Every benchmark in one command, one table: each measure, its value, what it is compared with, the ratio,
and the peak memory (max RSS of the process that did the work, from os.wait4) of each side.

    .venv/bin/python benchmarks/run_all.py [--repeat 3] [--skip diagnose,throttle,...]

Rows: startup of `drsdoctor --help` versus `python -c "import boto3"` (median of --repeat*3 runs each);
the IAM evaluator and diff-stacks benchmarks (bench_iam.py, bench_diff.py, run as they are); diagnose versus
the aws CLI runbook and a 100- versus 20,000-event history (bench_diagnose.py --json); diagnose with 30% of
its calls throttled versus none (two `sandbox serve --fault finder-rule-disabled` worlds, one throttled);
`diagnose --state-machine ARN --running` over 50 running executions versus 1 (bench_running.py --json);
a 10-wave, 2,000-server plan diagnosed versus the 6-server plan (bench_scale.py --json); the base install's
time and size versus the install before it was made light (bench_install.py --json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DRSDOCTOR = str(Path(PYTHON).with_name("drsdoctor"))
SANDBOX_KEYS = {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"}
THROTTLED_SHARE = 0.3


@dataclass
class Run:
    seconds: float
    peak_mb: float  # max RSS of the child (and the children it waited for)
    code: int
    stdout: str
    stderr: str


@dataclass
class Row:
    measure: str
    value: str
    compared_with: str = ""
    ratio: str = ""
    peak_mb: str = ""


def run(command: Sequence[str], env: dict[str, str] | None = None, timeout: float = 900) -> Run:
    """One child process to its end: wall time, exit code, output and its peak RSS (os.wait4's ru_maxrss)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(seconds, usage.ru_maxrss / 1024, process.returncode, out.read(), err.read())


def median_run(command: Sequence[str], times: int, env: dict[str, str] | None = None) -> Run:
    runs = [run(command, env) for _ in range(times)]
    middle = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs), middle.code,
               middle.stdout, middle.stderr)


def mb(value: float) -> str:
    return f"{value:.0f} MB"


# ---- the measures --------------------------------------------------------------------------------------

def startup(repeat: int) -> list[Row]:
    """`drsdoctor --help` must not pay for boto3: its start against boto3's import alone."""
    times = max(3, repeat * 3)
    run([PYTHON, "-c", "import boto3"])  # warm the page cache for both sides alike
    help_run = median_run([DRSDOCTOR, "--help"], times)
    boto_run = median_run([PYTHON, "-c", "import boto3"], times)
    bare = median_run([PYTHON, "-c", "pass"], times)
    return [Row(f"startup: drsdoctor --help (median of {times})", f"{help_run.seconds * 1000:.0f} ms",
                f"python -c 'import boto3': {boto_run.seconds * 1000:.0f} ms",
                f"{help_run.seconds / boto_run.seconds:.2f}x",
                f"{mb(help_run.peak_mb)} vs {mb(boto_run.peak_mb)}"),
            Row("startup: bare interpreter (floor)", f"{bare.seconds * 1000:.0f} ms", "", "",
                mb(bare.peak_mb))]


def iam(_repeat: int) -> list[Row]:
    done = run([PYTHON, "benchmarks/bench_iam.py"])
    _check(done, "bench_iam.py")
    rows = {}
    for line in done.stdout.splitlines():
        match = re.match(r"(\S.*?)\s{2,}([\d,]+)\s+([\d.]+)\s+([\d.]+)", line)
        if match:
            rows[match.group(1).strip()] = float(match.group(4))
    heavy = rows.get("10x20+conditions: role check, new context")
    plain = rows.get("1 plain: role check, new context")
    hostile = [(float(median), float(worst)) for median, worst in re.findall(
        r"^hostile wildcard: .*: median ([\d.]+) ms, worst ([\d.]+) ms$", done.stdout, re.M)]
    wildcards = [Row("iam: hostile wildcards (20 stars, 100 chars), slowest median",
                     f"{max(m for m, _ in hostile):.3f} ms",
                     f"limit 10 ms; worst (cold) {max(w for _, w in hostile):.3f} ms",
                     f"{len(hostile)} patterns", mb(done.peak_mb))] if hostile else []
    if heavy is None or plain is None:
        return [Row("iam: role check", "see bench_iam.py output", "", "", mb(done.peak_mb)), *wildcards]
    return [Row("iam: role check, heavy role (10 policies x 20 stmts)", f"{heavy:.2f} ms",
                f"plain role: {plain:.3f} ms", f"{heavy / plain:.1f}x", mb(done.peak_mb)), *wildcards]


def diff(repeat: int) -> list[Row]:
    done = run([PYTHON, "benchmarks/bench_diff.py", "--repeat", str(repeat)])
    _check(done, "bench_diff.py")
    found = dict(re.findall(r"^(load both|diff|total)\s*:\s*(\d+) ms", done.stdout, re.M))
    size = re.search(r"resources per template: (\d+)", done.stdout)
    if "total" not in found:
        return [Row("diff-stacks", "see bench_diff.py output", "", "", mb(done.peak_mb))]
    rows = [Row(f"diff-stacks: two {size.group(1) if size else '?'}-resource templates",
                f"{found['total']} ms", f"loading both: {found['load both']} ms",
                f"diff {int(found['diff']) / max(1, int(found['load both'])):.2f}x load", mb(done.peak_mb))]
    # a root of 6 nested stacks of 100 resources each, both trees followed from their S3 TemplateURLs
    done = run([PYTHON, "benchmarks/bench_diff.py", "--nested", "6", "--resources", "100",
                "--repeat", str(repeat)])
    _check(done, "bench_diff.py --nested")
    found = dict(re.findall(r"^(load both|diff|total)\s*:\s*(\d+) ms", done.stdout, re.M))
    if "total" in found:
        rows.append(Row("diff-stacks: root + 6 nested x 100 resources", f"diff {found['diff']} ms",
                        f"loading both trees: {found['load both']} ms",
                        f"diff {int(found['diff']) / max(1, int(found['load both'])):.2f}x load",
                        mb(done.peak_mb)))
    return rows


def diagnose(repeat: int) -> list[Row]:
    figures, done = figures_of("bench_diagnose.py", repeat)
    peak = f"{mb(done.peak_mb)} (largest process: the sandbox)"
    return [Row(f"diagnose (CLI, median of {repeat})", f"{figures['diagnose_seconds']:.2f} s",
                f"aws CLI runbook, {figures['runbook_calls']} calls: {figures['runbook_seconds']:.2f} s",
                f"{figures['speedup']}x faster", peak),
            Row("diagnose: API calls made", str(figures["api_calls"]),
                f"distinct calls needed: {figures['distinct_calls']}",
                f"{figures['api_calls'] / max(1, figures['distinct_calls']):.2f}x"),
            Row(f"diagnose: history of {figures['long_history_events']:,} events",
                f"{figures['long_history_seconds']:.2f} s",
                f"{figures['short_history_events']} events: {figures['short_history_seconds']:.2f} s",
                f"{figures['long_over_short']}x")]


def throttle(repeat: int) -> list[Row]:
    """The same fault diagnosed in a world answering 30% of outside calls with throttling errors, and not."""
    measured: dict[float, tuple[Run, str]] = {}
    for share in (0.0, THROTTLED_SHARE):
        with served("--fault", "finder-rule-disabled", "--throttle", str(share)) as info:
            arn = stuck_execution(info)
            env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                   "AWS_ENDPOINT_URL": info["endpoint_url"], "AWS_DEFAULT_REGION": info["region"]}
            done = median_run([DRSDOCTOR, "diagnose", arn, "--format", "json"], repeat, env)
            if done.code not in (0, 1):
                raise SystemExit(f"diagnose exited {done.code}: {done.stderr.strip()}")
            cause = (json.loads(done.stdout).get("root_cause") or {}).get("check", "none")
            measured[share] = (done, cause)
    (calm, calm_cause), (busy, busy_cause) = measured[0.0], measured[THROTTLED_SHARE]
    return [Row(f"diagnose, {THROTTLED_SHARE:.0%} of calls throttled (median of {repeat})",
                f"{busy.seconds:.2f} s, root cause {busy_cause}",
                f"unthrottled: {calm.seconds:.2f} s, root cause {calm_cause}",
                f"{busy.seconds / calm.seconds:.2f}x", f"{mb(busy.peak_mb)} vs {mb(calm.peak_mb)}")]


def running(repeat: int) -> list[Row]:
    """`diagnose --state-machine ARN --running` over 50 running executions versus 1 (bench_running.py)."""
    figures, _ = figures_of("bench_running.py", repeat)
    one, many = figures["one"], figures["many"]
    return [Row(f"diagnose --running: {figures['executions']} executions (median of {repeat})",
                f"{many['seconds']:.2f} s ({many['cpu_seconds']:.1f} s CPU), {many['calls']} calls",
                f"1 execution: {one['seconds']:.2f} s ({one['cpu_seconds']:.1f} s CPU), {one['calls']} calls",
                f"{figures['ratio']}x (target <= {figures['target_ratio']:.0f}x)",
                f"{many['peak_mb']:.0f} MB vs {one['peak_mb']:.0f} MB (tracemalloc)")]


def scale(repeat: int) -> list[Row]:
    """diagnose of a 10x200 plan (2,000 servers) against the 3x2 plan, and the large plan's sandbox run."""
    figures, done = figures_of("bench_scale.py", repeat)
    small, large = figures["small"], figures["large"]
    return [Row(f"diagnose: {large['plan']} ({large['servers']:,} servers; median of {repeat})",
                f"{large['diagnose_seconds']:.2f} s, root cause {large['root_cause'].split(':')[0]}",
                f"{small['plan']} ({small['servers']} servers): {small['diagnose_seconds']:.2f} s",
                f"{figures['ratio']}x (target <= 2x)",
                f"{large['peak_mb']:.0f} MB vs {small['peak_mb']:.0f} MB (tracemalloc, diagnose only)"),
            Row(f"sandbox: {large['plan']} run to its failing last wave", f"{large['run_seconds']:.0f} s",
                f"{small['plan']}: {small['run_seconds']:.0f} s",
                f"{large['run_seconds'] / small['run_seconds']:.1f}x",
                f"{mb(done.peak_mb)} (the bench process)")]


class served:
    """`drsdoctor sandbox serve ARGS` for the length of a with-block; yields its JSON line."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> dict[str, Any]:
        self.process = subprocess.Popen([DRSDOCTOR, "sandbox", "serve", *self.args], cwd=ROOT, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 240)
        if not ready:
            self.__exit__()
            raise SystemExit("sandbox serve printed nothing in 240 s")
        return dict(json.loads(self.process.stdout.readline()))

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def stuck_execution(info: dict[str, Any], stuck_minutes: float = 45, real_timeout: float = 150) -> str:
    """Start the first plan (as the world itself: unthrottled) and let it run `stuck_minutes` of simulated
    time: stuck, as an operator finds it, and well before the wave timeout fails it."""
    import urllib.request
    from datetime import datetime

    import boto3

    def now() -> datetime:
        with urllib.request.urlopen(info["clock_url"], timeout=10) as answer:
            return datetime.fromisoformat(json.loads(answer.read())["now"])

    sfn = boto3.client("stepfunctions", region_name=info["region"], endpoint_url=info["endpoint_url"],
                       aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    arn = str(sfn.start_execution(stateMachineArn=info["state_machine_arn"],
                                  input=info["start_input"])["executionArn"])
    started, started_real = now(), time.monotonic()
    while time.monotonic() - started_real < real_timeout:
        if sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
            break
        if (now() - started).total_seconds() >= stuck_minutes * 60:
            break
        time.sleep(0.5)
    return arn


def figures_of(script: str, repeat: int) -> tuple[dict[str, Any], Run]:
    """benchmarks/SCRIPT --json run to its end: its last line is one JSON object of figures."""
    done = run([PYTHON, f"benchmarks/{script}", "--repeat", str(repeat), "--json"], timeout=1800)
    _check(done, script)
    return dict(json.loads(done.stdout.strip().splitlines()[-1])), done


def _check(done: Run, name: str) -> None:
    if done.code != 0:
        raise SystemExit(f"{name} exited {done.code}: {done.stderr.strip()[-2000:]}")


def install(repeat: int) -> list[Row]:
    """`pip install drsdoctor` (no extras) into a fresh venv: this tree against the commit before the light
    install (bench_install.py; pip's cache warm for both)."""
    figures, _ = figures_of("bench_install.py", repeat)
    before, after = figures["before"], figures["after"]
    return [Row(f"pip install drsdoctor, base (fresh venv, pip cache warm; median of {repeat})",
                f"{after['seconds']:.1f} s, {after['mb']:.0f} MB",
                f"{before['commit']}: {before['seconds']:.1f} s, {before['mb']:.0f} MB",
                f"{figures['time_ratio']}x faster, {figures['size_ratio']}x smaller")]


MEASURES: dict[str, Callable[[int], list[Row]]] = {
    "startup": startup, "iam": iam, "diff": diff, "diagnose": diagnose, "throttle": throttle,
    "running": running, "scale": scale, "install": install}


def table(rows: list[Row]) -> str:
    header = Row("measure", "value", "compared with", "ratio", "peak RSS")
    cells = [[r.measure, r.value, r.compared_with, r.ratio, r.peak_mb] for r in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per timed measure (median)")
    parser.add_argument("--skip", default="", help=f"comma-separated, of: {', '.join(MEASURES)}")
    args = parser.parse_args()
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = skipped - set(MEASURES)
    if unknown:
        parser.error(f"unknown measure(s) to skip: {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    for name, measure in MEASURES.items():
        if name in skipped:
            continue
        print(f"running {name}...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        rows.extend(measure(args.repeat))
        print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
