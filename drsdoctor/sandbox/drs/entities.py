"""What DRS keeps: source servers, jobs, their log items and recovery instances (plain data, no HTTP)."""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 1000
# DRS documents no maximum maxResults; like every AWS listing it answers at most a page of its own size
# and a nextToken, so a client asking for more must still follow nextToken.
MAX_PAGE_SIZE = 1000


class DrsServiceError(Exception):
    """An error as DRS names it (ConflictException...); the wire layer picks its HTTP status."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.fields = {key: value for key, value in fields.items() if value is not None}


def validation_error(message: str, field_name: str | None = None) -> DrsServiceError:
    fields = [{"name": field_name, "message": message}] if field_name else None
    return DrsServiceError("ValidationException", message, reason="fieldValidationFailed", fieldList=fields)


class IdMaker:
    """DRS ids: a prefix and 17 lowercase hex characters (s-..., drsjob-..., i-...); a seed repeats them."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()

    def __call__(self, prefix: str, length: int = 17) -> str:
        return prefix + "".join(self._random.choice("0123456789abcdef") for _ in range(length))


def iso(moment: datetime) -> str:
    """DRS's ISO8601DatetimeString: UTC with a fraction and a Z, as its shapes' pattern demands."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """Read a DescribeJobs date filter; fromisoformat in Python 3.10 does not take a trailing Z."""
    value = text[:-1] + "+00:00" if text.endswith("Z") else text
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso_duration(span: timedelta) -> str:
    """DRS's ISO8601DurationString (lagDuration, elapsedReplicationDuration): PT<seconds>S."""
    return f"PT{max(0, int(span.total_seconds()))}S"


@dataclass
class SourceServer:
    source_server_id: str
    arn: str
    hostname: str
    replication: str  # dataReplicationState: CONTINUOUS, STALLED...
    tags: dict[str, str]
    added_at: datetime
    seq: int
    aws_instance_id: str
    origin_account_id: str
    origin_region: str
    staging_account_id: str | None = None
    outcome: str = "LAUNCHED"
    failure_reason: str | None = None
    last_launch_result: str = "NOT_STARTED"
    last_launch_job_id: str | None = None
    last_launch_at: datetime | None = None
    last_launch_drill: bool = False
    last_launch_status: str | None = None
    recovery_instance_id: str | None = None
    stalled_since: datetime | None = None


@dataclass
class ParticipatingServer:
    source_server_id: str
    launch_status: str = "PENDING"
    recovery_instance_id: str | None = None


@dataclass
class JobLogItem:
    at: datetime
    event: str
    data: dict[str, str] = field(default_factory=dict)
    seq: int = 0  # its place in the job's log, for paging


@dataclass(order=True)
class Step:
    """One scheduled change in a job's life; applied when the clock passes `at`."""

    at: datetime
    order: int
    kind: str = field(compare=False)
    source_server_id: str | None = field(default=None, compare=False)
    extra: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class Job:
    job_id: str
    arn: str
    type: str  # LAUNCH or TERMINATE
    initiated_by: str
    created_at: datetime
    seq: int
    is_drill: bool
    tags: dict[str, str]
    servers: list[ParticipatingServer]
    status: str = "PENDING"
    ended_at: datetime | None = None
    log: list[JobLogItem] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    denied_actions: list[str] = field(default_factory=list)
    snapshots: dict[str, datetime] = field(default_factory=dict)

    def server(self, source_server_id: str) -> ParticipatingServer:
        return next(s for s in self.servers if s.source_server_id == source_server_id)


@dataclass
class RecoveryInstance:
    recovery_instance_id: str
    arn: str
    source_server_id: str
    job_id: str
    is_drill: bool
    launched_at: datetime
    snapshot_at: datetime
    seq: int
    tags: dict[str, str]
    volume_id: str  # vol- and 8 hex digits: the drs model caps EbsVolumeID at 19 characters
    state: str = "RUNNING"


def page(items: Sequence[T], seq_of: Callable[[T], int], max_results: int | None,
         next_token: str | None, *, newest_first: bool = False) -> tuple[list[T], str | None]:
    """One page of a listing ordered by seq; the token names the last item returned, so items added or
    removed meanwhile never shift the next page."""
    size = DEFAULT_PAGE_SIZE if max_results is None else max_results
    if size < 1:
        raise validation_error("maxResults must be at least 1", "maxResults")
    size = min(size, MAX_PAGE_SIZE)
    start = 0
    if next_token:
        after = _read_token(next_token)
        beyond = (lambda seq: seq < after) if newest_first else (lambda seq: seq > after)
        start = next((i for i, item in enumerate(items) if beyond(seq_of(item))), len(items))
    chunk = list(items[start:start + size])
    more = start + size < len(items)
    return chunk, (_write_token(seq_of(chunk[-1])) if more and chunk else None)


def _write_token(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _read_token(token: str) -> int:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise validation_error("Invalid pagination token", "nextToken") from None
    if not isinstance(after, int):
        raise validation_error("Invalid pagination token", "nextToken")
    return after
