"""What does reading DRS in another account cost? A cross-account diagnose against a same-account one.

Two worlds served side by side (`sandbox serve`, separate processes, as real endpoints would be): the
reference (DRS in the state machine's account) and reference-xaccount (DRS in a second account, reached by
assuming the orchestrator's recovery role). Each runs the same healthy one-wave recovery; then each execution
is diagnosed --repeat times, alternating, in this process (collect + checks) by an operator holding
exactly what `drsdoctor permissions --include-optional` lists. Reported: API calls (the call log) and wall
time (median), and the cross-account / same-account ratio of each, from this one run.

    .venv/bin/python benchmarks/bench_xaccount.py [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import select
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SANDBOX = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}


def serve(orchestrator: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen([sys.executable, "-m", "drsdoctor", "sandbox", "serve", "--orchestrator",
                                orchestrator, "--waves", "1"], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 300)
    if not ready:
        process.kill()
        raise SystemExit(f"sandbox serve --orchestrator {orchestrator} printed nothing in 300 s")
    return process, json.loads(process.stdout.readline())


def client(info: dict[str, Any], service: str, **credentials: str) -> Any:
    return boto3.client(service, region_name=info["region"], endpoint_url=info["endpoint_url"],
                        **(credentials or SANDBOX))


def operator(info: dict[str, Any]) -> dict[str, str]:
    from drsdoctor.snapshot import fact_actions

    iam = client(info, "iam")
    iam.create_user(UserName="bench-operator")
    actions = sorted({action for actions in fact_actions().values() for action in actions})
    iam.put_user_policy(UserName="bench-operator", PolicyName="drsdoctor", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bench-operator")["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def recover(info: dict[str, Any]) -> str:
    """Run the plan to its end: a healthy recovery, the same one-wave plan in both worlds."""
    sfn = client(info, "stepfunctions")
    arn = str(sfn.start_execution(stateMachineArn=info["state_machine_arn"],
                                  input=info["start_input"])["executionArn"])
    deadline = time.monotonic() + 180
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)
    return arn


def diagnose_once(info: dict[str, Any], arn: str, credentials: dict[str, str]) -> dict[str, Any]:
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.collect import collect
    from drsdoctor.engine import diagnose

    session = AwsSession(AwsSettings(endpoint_url=info["endpoint_url"], region=info["region"]))
    session._boto = boto3.session.Session(region_name=info["region"], **credentials)
    started = time.perf_counter()
    report = diagnose(collect(arn, session))
    seconds = time.perf_counter() - started
    calls = Counter(f"{record.service}:{record.operation}" for record in session.call_log.records)
    return {"seconds": seconds, "calls": sum(calls.values()), "by_call": calls,
            "root_cause": report.root_cause.finding.check if report.root_cause else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    worlds = {name: serve(name) for name in ("reference", "reference-xaccount")}
    try:
        infos = {name: info for name, (_, info) in worlds.items()}
        credentials = {name: operator(info) for name, info in infos.items()}
        arns = {name: recover(info) for name, info in infos.items()}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in infos}
        for _ in range(options.repeat):
            for name, info in infos.items():
                runs[name].append(diagnose_once(info, arns[name], credentials[name]))
    finally:
        for process, _ in worlds.values():
            process.terminate()
            process.wait(timeout=60)
    summary = {name: {"seconds_median": statistics.median(run["seconds"] for run in found),
                      "calls": statistics.median(run["calls"] for run in found),
                      "root_causes": sorted({str(run["root_cause"]) for run in found})}
               for name, found in runs.items()}
    same, cross = summary["reference"], summary["reference-xaccount"]
    extra = runs["reference-xaccount"][-1]["by_call"] - runs["reference"][-1]["by_call"]
    result = {"repeat": options.repeat, "same_account": same, "cross_account": cross,
              "calls_ratio": round(cross["calls"] / same["calls"], 2),
              "seconds_ratio": round(cross["seconds_median"] / same["seconds_median"], 2),
              "extra_calls": dict(sorted(extra.items()))}
    if options.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'':22}{'calls':>8}{'wall (median s)':>18}  root cause")
    for label, row in (("same account", same), ("cross account", cross)):
        causes = ", ".join(row["root_causes"])
        print(f"{label:22}{row['calls']:>8.0f}{row['seconds_median']:>18.2f}  {causes}")
    print(f"{'ratio (cross/same)':22}{result['calls_ratio']:>8}{result['seconds_ratio']:>18}")
    print("extra calls across accounts: " + (", ".join(f"{k} x{v}" for k, v in extra.items()) or "none"))


if __name__ == "__main__":
    main()
