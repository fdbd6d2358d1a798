"""The time an endpoint stamps on its answers: drsdoctor's sandbox runs a simulated clock and says its "now"
in a header of every answer, so "not invoked for 40 minutes" is measured on that clock without a request of
drsdoctor's own (which would sit outside the --timeout budget, the guard and the call log).

Only an endpoint on this machine is believed: AWS never sends the header, and nobody else should set the
checks' clock.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

NOW_HEADER = "x-drsdoctor-sandbox-now"  # drsdoctor.sandbox.server stamps it
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class EndpointTime:
    """The newest time stamp a loopback endpoint put on an answer (None until one has)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latest: datetime | None = None

    def watch(self, client: Any) -> None:
        """Read the stamp of every answer `client` receives, errors included, when it talks to loopback."""
        if urlsplit(client.meta.endpoint_url).hostname not in LOOPBACK:
            return

        def answered(http_response: Any = None, **_: Any) -> None:
            if http_response is not None:
                self.saw(http_response.headers.get(NOW_HEADER))

        client.meta.events.register("after-call.*.*", answered)

    def saw(self, stamp: str | None) -> None:
        if not stamp:
            return
        try:
            found = datetime.fromisoformat(stamp)
        except ValueError:
            return
        found = found if found.tzinfo else found.replace(tzinfo=timezone.utc)
        with self._lock:  # answers arrive out of order across threads; the clock only moves forward
            if self.latest is None or found > self.latest:
                self.latest = found
