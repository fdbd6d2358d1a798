"""How fast is diagnose, against what operators do today, and does a long history slow it down?

Against `drsdoctor sandbox serve` (a separate process, as a real endpoint would be), in one run:
  1. diagnose's wall time (the CLI in a subprocess, median of --repeat runs) versus the same facts gathered
     with the `aws` CLI one call at a time: the runbook (every call diagnose made, replayed serially);
  2. the number of API calls diagnose makes versus the distinct calls it needs;
  3. diagnose on executions with 100 and 20,000 history events: the larger should stay within 1.5x of the
     smaller, because diagnose reads only the newest events it needs. moto's engine runs ~150 events a
     second (20,000 would take minutes and stall the sandbox), so these two executions are built cheaply: a
     moto server in this process whose executions carry a polling loop's history of the wanted length, and
     whose GetExecutionHistory pages (maxResults, reverseOrder, nextToken) the way Step Functions does.

    .venv/bin/python benchmarks/bench_diagnose.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
AWS_CLI = str(Path(PYTHON).with_name("aws"))
SERVICE_CLI = {"sfn": "stepfunctions", "cloudwatch-logs": "logs", "eventbridge": "events"}
POLL_LOOP = [("WaitStateEntered", "WaitForWave"), ("WaitStateExited", "WaitForWave"),
             ("TaskStateEntered", "ReadWaveStatus"), ("TaskScheduled", None), ("TaskStarted", None),
             ("TaskSucceeded", None), ("TaskStateExited", "ReadWaveStatus"),
             ("ChoiceStateEntered", "CheckWaveStatus"), ("ChoiceStateExited", "CheckWaveStatus")]


def serve() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start `sandbox serve` and read its one JSON line."""
    process = subprocess.Popen([PYTHON, "-m", "drsdoctor", "sandbox", "serve"], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 180)
    if not ready:
        process.kill()
        raise SystemExit("sandbox serve printed nothing in 180 s")
    return process, json.loads(process.stdout.readline())


def operator_credentials(info: dict[str, Any]) -> dict[str, str]:
    """An IAM user in the sandbox allowed exactly what drsdoctor reads (the DRS simulator checks IAM)."""
    from drsdoctor.snapshot import fact_actions

    iam = client(info, "iam", {"AWS_ACCESS_KEY_ID": "sandbox", "AWS_SECRET_ACCESS_KEY": "sandbox"})
    iam.create_user(UserName="bench-operator")
    actions = sorted({action for actions in fact_actions().values() for action in actions})
    iam.put_user_policy(UserName="bench-operator", PolicyName="drsdoctor-read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bench-operator")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def client(info: dict[str, Any], service: str, credentials: dict[str, str]) -> Any:
    return boto3.client(service, region_name=info["region"], endpoint_url=info["endpoint_url"],
                        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"])


def wait_for(sfn: Any, arn: str, seconds: float, settled_after: float = 8.0) -> str:
    """Until the execution ends, or `settled_after` real seconds pass with no new history event."""
    started, last_change, last_count = time.monotonic(), time.monotonic(), -1
    while time.monotonic() - started < seconds:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            return str(status)
        count = len(sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)["events"])
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > settled_after:
            return "RUNNING"
        time.sleep(0.5)
    return "RUNNING"


def time_cli_diagnose(info: dict[str, Any], credentials: dict[str, str], arn: str,
                      repeat: int) -> tuple[float, int]:
    env = {**os.environ, **credentials, "AWS_ENDPOINT_URL": info["endpoint_url"]}
    times, code = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "-m", "drsdoctor", "diagnose", arn, "--format", "json"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - started)
        code = done.returncode
        if code not in (0, 1, 3):  # 3: the history server has no functions to read, only the history
            raise SystemExit(f"diagnose exited {code}: {done.stderr.strip()}")
    return statistics.median(times), code


def calls_of_diagnose(info: dict[str, Any], credentials: dict[str, str], arn: str) -> list[Any]:
    """diagnose's own call log, in this process: what the runbook has to gather too."""
    os.environ.update(credentials)
    from drsdoctor.aws import AwsSession, AwsSettings
    from drsdoctor.commands.diagnose import collect_snapshot

    session = AwsSession(AwsSettings(region=info["region"], endpoint_url=info["endpoint_url"]))
    collect_snapshot(arn, session)
    return list(session.call_log.records)


def time_runbook(info: dict[str, Any], credentials: dict[str, str], records: list[Any]) -> tuple[float, int]:
    """The same facts with the aws CLI, one call at a time, as an operator at a terminal would."""
    from botocore import xform_name

    env = {**os.environ, **credentials, "AWS_DEFAULT_REGION": info["region"]}
    distinct = list({(r.service, r.operation, r.params): r for r in records}.values())
    started = time.perf_counter()
    for record in distinct:
        service = SERVICE_CLI.get(record.service, record.service)
        command = [AWS_CLI, service, xform_name(record.operation, "-"), "--endpoint-url",
                   info["endpoint_url"], "--output", "json", "--no-paginate", "--cli-input-json",
                   record.params or "{}"]
        subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    return time.perf_counter() - started, len(distinct)


def polling_history(count: int, role_arn: str) -> list[dict[str, Any]]:
    """An execution stuck in its polling loop for `count` events, as GetExecutionHistory returns them."""
    import datetime

    start = datetime.datetime(2026, 1, 7, 10, 0, tzinfo=datetime.timezone.utc)
    events: list[dict[str, Any]] = [{"id": 1, "type": "ExecutionStarted", "timestamp": start,
                                     "previousEventId": 0,
                                     "executionStartedEventDetails": {"input": "{}", "roleArn": role_arn}}]
    for event_id in range(2, count + 1):
        kind, state = POLL_LOOP[(event_id - 2) % len(POLL_LOOP)]
        event: dict[str, Any] = {"id": event_id, "type": kind, "previousEventId": event_id - 1,
                                 "timestamp": start + datetime.timedelta(seconds=event_id * 3)}
        if state:
            key = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
            event[key] = {"name": state, "output": '{"waveStatus": "UNKNOWN"}'}
        else:
            event["taskScheduledEventDetails" if kind == "TaskScheduled" else "taskSucceededEventDetails"
                  if kind == "TaskSucceeded" else "taskStartedEventDetails"] = {
                "resource": "invoke", "resourceType": "lambda", "region": "us-east-1"}
        events.append(event)
    return events


def history_server() -> tuple[Any, str, dict[int, str]]:
    """A moto server with two executions of 100 and 20,000 events; returns (server, endpoint, arns)."""
    from moto.server import ThreadedMotoServer
    from moto.stepfunctions import models, responses

    histories: dict[str, list[dict[str, Any]]] = {}

    def history_of(self: Any, role_arn: str) -> list[dict[str, Any]]:
        if self.execution_arn not in histories:
            count = int(self.name.rsplit("-", 1)[-1]) if self.name.startswith("bench-history-") else 3
            histories[self.execution_arn] = polling_history(count, role_arn)
        return histories[self.execution_arn]

    def paged(self: Any) -> str:
        """Step Functions' paging (maxResults, default 100; reverseOrder; nextToken), answered as fast as
        the service does: moto's generic serializer takes ~2 ms an event, which would time moto, not us."""
        events = self.stepfunction_backend.get_execution_history(self._get_param("executionArn"))["events"]
        if self._get_param("reverseOrder"):
            events = events[::-1]
        first, size = int(self._get_param("nextToken") or 0), int(self._get_param("maxResults") or 100)
        result: dict[str, Any] = {"events": events[first:first + size]}
        if first + size < len(events):
            result["nextToken"] = str(first + size)
        return json.dumps(result, default=lambda stamp: stamp.timestamp())

    models.Execution.get_execution_history = history_of  # type: ignore[method-assign,assignment]
    responses.StepFunctionResponse.get_execution_history = paged  # type: ignore[method-assign,assignment]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    definition = json.dumps({"StartAt": "WaitForWave", "States": {
        "WaitForWave": {"Type": "Wait", "Seconds": 30, "Next": "ReadWaveStatus"},
        "ReadWaveStatus": {"Type": "Pass", "Next": "CheckWaveStatus"},
        "CheckWaveStatus": {"Type": "Choice", "Default": "WaitForWave", "Choices": [
            {"Variable": "$.waveStatus", "StringEquals": "COMPLETED", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}}})
    machine = sfn.create_state_machine(name="bench-history", definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
    arns = {count: sfn.start_execution(stateMachineArn=machine, name=f"bench-history-{count}")["executionArn"]
            for count in (100, 20000)}
    return server, endpoint, arns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    process, info = serve()
    try:
        credentials = operator_credentials(info)
        sfn = client(info, "stepfunctions", credentials)
        started = sfn.start_execution(stateMachineArn=info["state_machine_arn"], input=info["start_input"])
        arn = started["executionArn"]
        wait_for(sfn, arn, 120)
        diagnose_seconds, exit_code = time_cli_diagnose(info, credentials, arn, args.repeat)
        records = calls_of_diagnose(info, credentials, arn)
        runbook_seconds, runbook_calls = time_runbook(info, credentials, records)
    finally:
        process.terminate()
        process.wait(timeout=60)
    with contextlib.redirect_stdout(sys.stderr):  # moto's server prints a line for every unknown service
        server, endpoint, arns = history_server()
        try:
            bench = {"endpoint_url": endpoint}
            keys = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
            short_events, long_events = 100, 20000
            short_seconds, _ = time_cli_diagnose(bench, keys, arns[short_events], args.repeat)
            long_seconds, _ = time_cli_diagnose(bench, keys, arns[long_events], args.repeat)
        finally:
            server.stop()
    figures = {
        "diagnose_seconds": round(diagnose_seconds, 2), "diagnose_exit_code": exit_code,
        "runbook_seconds": round(runbook_seconds, 2), "runbook_calls": runbook_calls,
        "speedup": round(runbook_seconds / diagnose_seconds, 1),
        "api_calls": len(records),
        "distinct_calls": len({(r.service, r.operation, r.params) for r in records}),
        "short_history_events": short_events, "short_history_seconds": round(short_seconds, 2),
        "long_history_events": long_events, "long_history_seconds": round(long_seconds, 2),
        "long_over_short": round(long_seconds / short_seconds, 2),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"diagnose (CLI, median of {args.repeat}):   {diagnose_seconds:6.2f} s  (exit {exit_code})")
    print(f"runbook, aws CLI one call at a time: {runbook_seconds:6.2f} s  ({runbook_calls} calls)")
    print(f"speed-up:                            {figures['speedup']:6.1f} x  (aim >= 10x)")
    print(f"API calls made / distinct calls:     {figures['api_calls']} / {figures['distinct_calls']}")
    print(f"history {short_events:>6} events:              {short_seconds:6.2f} s")
    print(f"history {long_events:>6} events:              {long_seconds:6.2f} s  "
          f"({figures['long_over_short']}x; aim <= 1.5x)")


if __name__ == "__main__":
    main()
