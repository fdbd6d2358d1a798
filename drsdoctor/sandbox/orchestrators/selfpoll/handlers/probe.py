"""selfpoll probe (Lambda handler: probe.handler).

Called by the state machine between two waits with the run's state; asks DRS about the wave's job and
returns the whole state with its Phase: LAUNCHING (not done yet), LAUNCHED (every server launched) or
BROKEN (the job ended with a server that did not launch). A DRS error fails the invocation: the state
machine retries, then gives the run up.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

# Read at import: a probe without its zone cannot ask DRS anything, so it should not start.
ZONE = os.environ["RECOVERY_ZONE"]
DRS = boto3.client("drs", region_name=ZONE)


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    state = dict(event)
    job = DRS.describe_jobs(filters={"jobIDs": [state["JobId"]]})["items"][0]
    servers = job.get("participatingServers", [])
    launched = [s["sourceServerID"] for s in servers if s.get("launchStatus") == "LAUNCHED"]
    broken = [s["sourceServerID"] for s in servers if s.get("launchStatus") in ("FAILED", "TERMINATED")]
    if job["status"] != "COMPLETED":
        phase, reason = "LAUNCHING", None
    elif broken or len(launched) < len(servers):
        phase, reason = "BROKEN", f"servers not launched: {', '.join(broken) or 'unknown'}"
    else:
        phase, reason = "LAUNCHED", None
    print(json.dumps({"msg": "probed", "job": state["JobId"], "jobStatus": job["status"], "phase": phase}))
    return {**state, "Phase": phase, "JobState": job["status"], "Launched": len(launched), "Reason": reason}
