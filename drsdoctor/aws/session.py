"""One place that makes AWS clients: profile, region, endpoint, retries, timeouts, call log, the guard."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from drsdoctor.aws import deadline
from drsdoctor.aws.answers import check_answer
from drsdoctor.aws.audit import CallAudit
from drsdoctor.aws.calllog import CallLog
from drsdoctor.aws.failures import BUDGET_CODE, AwsFailure, failure_from
from drsdoctor.aws.readonly import MutatingCallRefused, is_read_operation
from drsdoctor.aws.retry import MAX_ATTEMPTS, Clock, Patience, SystemClock, install
from drsdoctor.aws.stamp import EndpointTime
from drsdoctor.errors import InputError

# A fact not gathered because `diagnose --timeout` ran out: its FactError's code (BUDGET_CODE) and message.
NOT_COLLECTED = "not collected: the --timeout budget ran out"


class BudgetExhausted(AwsFailure):
    """The whole-run budget (`diagnose --timeout`) ran out before this request was sent or answered: a missing
    fact, not a dead run, and no permission would have helped. `after`: what the call got until then, when it
    was being retried (throttled, HTTP 500)."""

    def __init__(self, service: str, operation: str, resource: str = "",
                 after: AwsFailure | None = None, budget: float | None = None) -> None:
        super().__init__(service, operation, resource, BUDGET_CODE, NOT_COLLECTED, kind="timeout")
        self.after, self.budget = after, budget


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to call AWS, and how patiently."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = MAX_ATTEMPTS  # ride out throttling mid-incident, when everyone is calling
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    max_pool_connections: int = 16  # the collector's threads share each client
    call_limit: float = deadline.CALL_LIMIT  # one call, retries and all, answered whole within this
    # Other accounts' credentials (where DRS runs): roles to assume, and ACCOUNT -> profile (aws/accounts.py)
    assume_roles: tuple[str, ...] = ()
    account_profiles: tuple[tuple[str, str], ...] = ()

    def within(self, budget: float | None) -> AwsSettings:
        """These settings with no single attempt allowed to outlast a whole-run budget of `budget` seconds."""
        if budget is None:
            return self
        return replace(self, connect_timeout=min(self.connect_timeout, budget),
                       read_timeout=min(self.read_timeout, budget))


@dataclass
class AwsSession:
    """Makes (and caches, one per service and region) read-only, logged clients."""

    settings: AwsSettings = field(default_factory=AwsSettings)
    call_log: CallLog = field(default_factory=CallLog)
    _clients: dict[tuple[str, str, int], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _boto: Any = field(default=None, repr=False)
    clock: Clock = field(default_factory=SystemClock)  # retries wait on it; tests pass one they advance
    deadline: float | None = None  # clock.monotonic() after which no request is sent (see start_budget)
    budget: float | None = None  # the seconds start_budget was given: named when they run out
    # What a call kept getting until the budget ran out (HTTP 500, throttled): the news when later calls
    # are not even sent.
    last_failure: AwsFailure | None = field(default=None, repr=False)
    # The DRSDOCTOR_CALL_LOG audit trail, for the command running as the session is made.
    audit: CallAudit | None = field(default_factory=CallAudit.from_environment, repr=False)
    endpoint_time: EndpointTime = field(default_factory=EndpointTime, repr=False)  # a sandbox's "now"

    def start_budget(self, seconds: float) -> None:
        """From now on, `seconds` for the whole run: later requests (and retries) raise BudgetExhausted."""
        self.deadline = self.clock.monotonic() + seconds
        self.budget = seconds

    def out_of_budget(self, wait: float = 0.0) -> bool:
        """Whether the budget has run out, or would while waiting `wait` seconds."""
        return self.deadline is not None and self.clock.monotonic() + wait >= self.deadline

    def seconds_left(self) -> float:
        """How long the budget has left, on the session's clock (infinity when there is none)."""
        if self.deadline is None:
            return float("inf")
        return max(0.0, self.deadline - self.clock.monotonic())

    def _retried_past_budget(self, service: str, operation: str, last: BaseException | None) -> AwsFailure:
        if last is not None:
            self.last_failure = failure_from(last, service, operation, "")
        return self.ran_out(service, operation)

    def ran_out(self, service: str, operation: str, resource: str = "") -> BudgetExhausted:
        """The budget ran out before this call was answered: said with what calls kept getting, if any."""
        return BudgetExhausted(service, operation, resource, self.last_failure, self.budget)

    def _gave_up(self, service: str, operation: str, waited: float) -> AwsFailure | None:
        """What a call still unanswered raises: the budget ran out, or it outlived call_limit; else None."""
        if self.out_of_budget():
            return self.ran_out(service, operation)
        if waited >= self.settings.call_limit:
            return AwsFailure(service, operation, "", "NoAnswer", f"no complete answer within {waited:.0f} s",
                              kind="timeout")
        return None

    @property
    def region(self) -> str:
        region = self.settings.region or self._boto_session().region_name
        if not region:
            raise InputError("no AWS region: pass --region, set AWS_REGION, or give an ARN that names one")
        return str(region)

    def client(self, service: str, region: str | None = None, attempts: int | None = None) -> Any:
        """A client for `service` (boto3's name: stepfunctions, lambda, logs...) in `region` or the default;
        `attempts` overrides the retry budget (1: ask once, for a probe whose failure has a fallback)."""
        region = region or self.region
        key = (service, region, attempts or self.settings.max_attempts)
        with self._lock:  # boto3 sessions are not thread-safe while creating clients
            if key not in self._clients:
                self._clients[key] = self._make_client(service, region, key[2])
            return self._clients[key]

    def _boto_session(self) -> Any:
        if self._boto is None:
            from botocore.exceptions import ProfileNotFound

            try:
                self._boto = boto3_session(profile_name=self.settings.profile)
            except ProfileNotFound as error:
                raise InputError(str(error)) from None
        return self._boto

    def elsewhere(self, *, profile: str | None = None,
                  credentials: dict[str, str] | None = None) -> AwsSession:
        """This session with other credentials (another account's, drsdoctor.aws.accounts): a named profile,
        or sts:AssumeRole's Credentials. The guard, call log, audit trail, budget and clock are shared."""
        from botocore.exceptions import ProfileNotFound

        try:
            if profile is not None:
                boto = boto3_session(profile_name=profile, region_name=self.region)
            else:
                given = credentials or {}
                boto = boto3_session(aws_access_key_id=given.get("AccessKeyId"),
                                     aws_secret_access_key=given.get("SecretAccessKey"),
                                     aws_session_token=given.get("SessionToken"), region_name=self.region)
        except ProfileNotFound as error:
            raise InputError(str(error)) from None
        return replace(self, _clients={}, _lock=threading.Lock(), _boto=boto)

    def _make_client(self, service: str, region: str, attempts: int) -> Any:
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=self.settings.connect_timeout, read_timeout=self.settings.read_timeout,
            max_pool_connections=self.settings.max_pool_connections,
        )
        client = self._boto_session().client(service, region_name=region, config=config,
                                             endpoint_url=self._endpoint_for(service))
        install(client, Patience(attempts, self.clock, self.out_of_budget, self._retried_past_budget))
        events = client.meta.events
        events.register_first("provide-client-params.*.*", self._guard)
        events.register("provide-client-params.*.*", self.call_log.on_provide_params)
        events.register_first("before-call.*.*", self.call_log.on_before_call)
        events.register("before-send.*.*", self._before_send)
        if self.audit is not None:  # after the guard and the budget: what really goes on the wire
            self.audit.watch(client)
        events.register("after-call.*.*", self.call_log.on_after_call)
        events.register("before-parse.*.*", check_answer)
        self.endpoint_time.watch(client)
        deadline.bound(client, self.seconds_left, self.settings.call_limit, self._gave_up)
        events.register("after-call-error.*.*", self.call_log.on_after_call_error)
        return client

    def _endpoint_for(self, service: str) -> str | None:
        """--endpoint-url wins; but when it only echoes AWS_ENDPOINT_URL, let botocore honour the
        per-service AWS_ENDPOINT_URL_<SERVICE> variables as it normally does."""
        endpoint = self.settings.endpoint_url
        if endpoint and endpoint == os.environ.get("AWS_ENDPOINT_URL"):
            return None
        return endpoint

    def _guard(self, model: Any, context: dict[str, Any], **kwargs: Any) -> None:
        """The read-only guard, first of all: before the parameters are checked, before anything is sent."""
        service = model.service_model.service_id.hyphenize()
        if not is_read_operation(service, model.name):
            self.call_log.refused(model, context)
            if self.audit is not None:
                self.audit.refused(service, model.name)
            raise MutatingCallRefused(service, model.name)

    def _before_send(self, event_name: str = "", **_: Any) -> None:
        # Each attempt (retries too) asks first: a throttled call must not back off past the budget, and a
        # call its caller gave up on (deadline.py) sends nothing more.
        if self.out_of_budget() or deadline.abandoned():
            parts = [*event_name.split("."), "", ""]  # before-send.<service>.<Operation>
            raise self.ran_out(parts[1], parts[2])


_LOADER: list[Any] = []  # botocore's loader of the first session, shared by every later one
_LOADER_LOCK = threading.Lock()


def boto3_session(loader: Any = None, **arguments: Any) -> Any:
    """A boto3 session whose service models are read once a process (or once a `loader`): each new session
    would parse them again (about 0.05 s of CPU a client), and `--running` and other accounts make their own.
    A named profile that does not exist fails here, as boto3 alone fails."""
    import boto3
    import botocore.session

    with _LOADER_LOCK:
        core = botocore.session.get_session()
        shared = loader or (_LOADER[0] if _LOADER else None)
        if shared is not None:
            core.register_component("data_loader", shared)
        boto = boto3.session.Session(botocore_session=core, **arguments)
        used = core.get_component("data_loader")
        if not _LOADER and loader is None:
            _LOADER.append(used)
        used.search_paths[:] = list(dict.fromkeys(used.search_paths))  # boto3 appends its path each time
    core.get_scoped_config()  # reads the profile: ProfileNotFound now, not at the first call
    return boto
