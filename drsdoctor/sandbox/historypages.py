"""GetExecutionHistory pages as Step Functions pages it (a patch of motopatch.py).

moto answers every event at once and ignores `maxResults`, `nextToken` and `reverseOrder`: code that reads
a long execution's history page by page, or its last events first, saw something AWS never answers. Here a
page holds `maxResults` events (Step Functions' default 100, at most 1000), `nextToken` continues where the
last page ended, and `reverseOrder` starts from the newest event.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def token_for(execution_arn: str, offset: int, reverse: bool) -> str:
    raw = json.dumps({"arn": execution_arn, "offset": offset, "reverse": reverse}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def offset_of(token: str, execution_arn: str, reverse: bool) -> int:
    """Where a page starts; InvalidToken for a token of another execution, order or an unreadable one."""
    from moto.stepfunctions.exceptions import InvalidToken

    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()))
        if fields["arn"] != execution_arn or fields["reverse"] != reverse:
            raise ValueError("the token belongs to another request")
        return int(fields["offset"])
    except (ValueError, KeyError, TypeError):
        raise InvalidToken() from None


def page(events: list[Any], execution_arn: str, max_results: int | None, token: str | None,
         reverse: bool) -> dict[str, Any]:
    """One page of an execution's events, as GetExecutionHistory answers it."""
    ordered = list(reversed(events)) if reverse else list(events)
    size = min(max_results or DEFAULT_PAGE, MAX_PAGE)
    start = offset_of(token, execution_arn, reverse) if token else 0
    answer: dict[str, Any] = {"events": ordered[start:start + size]}
    if start + size < len(ordered):
        answer["nextToken"] = token_for(execution_arn, start + size, reverse)
    return answer


def patch(replace: Callable[[Any, str, Any], None]) -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def get_execution_history(self: Any) -> Any:
        arn = self._get_param("executionArn")
        history = self.stepfunction_backend.get_execution_history(arn)
        return ActionResult(page(list(history["events"]), arn, self._get_param("maxResults"),
                                 self._get_param("nextToken"), bool(self._get_param("reverseOrder"))))

    replace(StepFunctionResponse, "get_execution_history", get_execution_history)
