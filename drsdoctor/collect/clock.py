"""The checks' "now": the wall clock, or the simulated clock of a sandbox served on loopback."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timezone
from urllib.parse import urlsplit

SANDBOX_CLOCK_PATH = "/_sandbox/clock"  # drsdoctor.sandbox.server serves its world's "now" here
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def now_for(endpoint_url: str | None) -> datetime:
    """A sandbox's timestamps are simulated: "not invoked for 40 minutes" must be measured on its clock."""
    if endpoint_url and urlsplit(endpoint_url).hostname in LOOPBACK:
        try:
            with urllib.request.urlopen(endpoint_url.rstrip("/") + SANDBOX_CLOCK_PATH, timeout=2) as answer:
                found = datetime.fromisoformat(json.loads(answer.read())["now"])
            return found if found.tzinfo else found.replace(tzinfo=timezone.utc)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not a sandbox: a local proxy or moto server keeps real time
    return datetime.now(timezone.utc)
