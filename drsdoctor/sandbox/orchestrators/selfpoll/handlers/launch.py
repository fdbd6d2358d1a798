"""selfpoll launcher (Lambda handler: launch.handler).

Called by the state machine with the run's state ({RunName, BlueprintId, WaveCursor, ...}); on the first
wave it reads the blueprint and finds each wave's source servers by their tags; it starts the wave
(drs:StartRecovery), notes it in the run ledger, and returns the whole state with the wave's job.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3

LEDGER = os.environ["RUN_LEDGER"]
BLUEPRINTS = os.environ["BLUEPRINT_STORE"]
ZONE = os.environ.get("RECOVERY_ZONE") or None
# Made once a container: a warm invocation reuses them.
DRS = boto3.client("drs", region_name=ZONE)
TABLES = boto3.resource("dynamodb")


def say(message: str, **fields: Any) -> None:
    print(json.dumps({"msg": message, **fields}, default=str))


def tagged_servers(drs: Any, key: str, value: str) -> list[str]:
    found = []
    for page in drs.get_paginator("describe_source_servers").paginate(filters={}):
        for server in page.get("items", []):
            if server.get("tags", {}).get(key) == value:
                found.append(server["sourceServerID"])
    return found


def with_waves(state: dict[str, Any], drs: Any) -> dict[str, Any]:
    """The state with the blueprint's waves and their servers (read once, then carried by the run)."""
    blueprint = TABLES.Table(BLUEPRINTS).get_item(Key={"BlueprintId": state["BlueprintId"]}).get("Item")
    if blueprint is None:
        raise LookupError(f"no blueprint {state['BlueprintId']} in {BLUEPRINTS}")
    waves = [{"Name": str(wave["Name"]),
              "Servers": tagged_servers(drs, str(wave["TagKey"]), str(wave["TagValue"]))}
             for wave in blueprint["Waves"]]
    return {**state, "Waves": waves, "WaveCount": len(waves)}


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    drs = DRS
    state = dict(event)
    if "Waves" not in state:
        state = with_waves(state, drs)
    cursor = int(state["WaveCursor"])
    wave = state["Waves"][cursor]
    if not wave["Servers"]:
        raise ValueError(f"wave {wave['Name']} has no source servers")
    job = drs.start_recovery(sourceServers=[{"sourceServerID": sid} for sid in wave["Servers"]],
                             tags={"RunName": state["RunName"], "Wave": wave["Name"]})["job"]
    launched_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ledger = TABLES.Table(LEDGER)
    ledger.put_item(Item={"RunName": state["RunName"], "Entry": f"WAVE#{cursor + 1:02d}",
                          "WaveName": wave["Name"], "JobId": job["jobID"], "WaveState": "LAUNCHING",
                          "LaunchedAt": launched_at})
    ledger.update_item(Key={"RunName": state["RunName"], "Entry": "RUN"},
                       UpdateExpression="SET CurrentWave = :n", ExpressionAttributeValues={":n": cursor + 1})
    say("wave launched", run=state["RunName"], wave=wave["Name"], job=job["jobID"])
    return {**state, "JobId": job["jobID"], "Phase": "LAUNCHING", "JobState": job["status"]}
