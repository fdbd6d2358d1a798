"""selfpoll mirror (Lambda handler: mirror.handler), run every minute by a schedule rule.

Copies the status of each running wave's DRS job into the run ledger, for the UI. Nothing waits for
it: the state machine asks DRS itself, so a mirror that stops only leaves the UI behind.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key

LEDGER = os.environ["RUN_LEDGER"]
ZONE = os.environ.get("RECOVERY_ZONE") or None
SETTLED = ("LAUNCHED", "BROKEN")
# Made once a container: a warm invocation reuses them.
LEDGER_TABLE = boto3.resource("dynamodb").Table(LEDGER)
DRS = boto3.client("drs", region_name=ZONE)


def open_runs(ledger: Any) -> list[str]:
    names, kwargs = [], {"FilterExpression": Attr("Entry").eq("RUN") & Attr("RunStatus").eq("RUNNING")}
    while True:
        page = ledger.scan(**kwargs)
        names += [item["RunName"] for item in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return names
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def handler(_event: Any, _context: Any) -> dict[str, Any]:
    ledger, drs = LEDGER_TABLE, DRS
    mirrored = 0
    for run in open_runs(ledger):
        in_run = Key("RunName").eq(run) & Key("Entry").begins_with("WAVE#")
        waves = ledger.query(KeyConditionExpression=in_run)
        for wave in waves.get("Items", []):
            if wave.get("WaveState") in SETTLED:
                continue
            jobs = drs.describe_jobs(filters={"jobIDs": [wave["JobId"]]})["items"]
            if not jobs:
                continue
            job = jobs[0]
            servers = job.get("participatingServers", [])
            launched = sum(1 for s in servers if s.get("launchStatus") == "LAUNCHED")
            state = job["status"]
            if state == "COMPLETED":
                state = "LAUNCHED" if servers and launched == len(servers) else "BROKEN"
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            ledger.update_item(Key={"RunName": run, "Entry": wave["Entry"]},
                               UpdateExpression="SET WaveState = :s, ServersLaunched = :n, MirroredAt = :t",
                               ExpressionAttributeValues={":s": state, ":n": launched, ":t": now})
            mirrored += 1
    print(json.dumps({"msg": "mirrored", "waves": mirrored}))
    return {"Mirrored": mirrored}
