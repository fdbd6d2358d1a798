"""The checks' "now": the wall clock, or the simulated clock of a sandbox served on loopback, as the sandbox
stamps it on its answers (drsdoctor.aws.stamp): no request of its own, so nothing outside the budget."""

from __future__ import annotations

from datetime import datetime, timezone

from drsdoctor.aws import AwsSession


def now_of(session: AwsSession) -> datetime:
    """The endpoint's own time at its newest answer to `session` where it stamps one; else the wall clock."""
    return session.endpoint_time.latest or datetime.now(timezone.utc)
