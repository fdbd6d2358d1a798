"""One place that makes AWS clients: profile, region, endpoint, retries, timeouts, call log, the guard."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from drsdoctor.aws.calllog import CallLog
from drsdoctor.aws.readonly import MutatingCallRefused, is_read_operation
from drsdoctor.errors import InputError


@dataclass(frozen=True)
class AwsSettings:
    """Where and as whom to call AWS, and how patiently."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 5  # adaptive retries ride out throttling mid-incident, when everyone is calling
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    max_pool_connections: int = 16  # the collector's threads share each client


@dataclass
class AwsSession:
    """Makes (and caches, one per service and region) read-only, logged clients."""

    settings: AwsSettings = field(default_factory=AwsSettings)
    call_log: CallLog = field(default_factory=CallLog)
    _clients: dict[tuple[str, str, int], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _boto: Any = field(default=None, repr=False)

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
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                self._boto = boto3.session.Session(profile_name=self.settings.profile)
            except ProfileNotFound as error:
                raise InputError(str(error)) from None
        return self._boto

    def _make_client(self, service: str, region: str, attempts: int) -> Any:
        from botocore.config import Config

        config = Config(
            retries={"mode": "adaptive", "max_attempts": attempts},
            connect_timeout=self.settings.connect_timeout, read_timeout=self.settings.read_timeout,
            max_pool_connections=self.settings.max_pool_connections,
        )
        client = self._boto_session().client(service, region_name=region, config=config,
                                             endpoint_url=self._endpoint_for(service))
        events = client.meta.events
        events.register("provide-client-params.*.*", self.call_log.on_provide_params)
        events.register_first("before-call.*.*", self._before_call)
        events.register("after-call.*.*", self.call_log.on_after_call)
        events.register("after-call-error.*.*", self.call_log.on_after_call_error)
        return client

    def _endpoint_for(self, service: str) -> str | None:
        """--endpoint-url wins; but when it only echoes AWS_ENDPOINT_URL, let botocore honour the
        per-service AWS_ENDPOINT_URL_<SERVICE> variables as it normally does."""
        endpoint = self.settings.endpoint_url
        if endpoint and endpoint == os.environ.get("AWS_ENDPOINT_URL"):
            return None
        return endpoint

    def _before_call(self, model: Any, context: dict[str, Any], **kwargs: Any) -> None:
        service = model.service_model.service_id.hyphenize()
        if not is_read_operation(service, model.name):
            self.call_log.refused(model, context)
            raise MutatingCallRefused(service, model.name)
        self.call_log.on_before_call(model=model, context=context)
