"""The public check API: built-in and third-party checks are written against this module alone.

A check is a plain function of a Snapshot that yields findings::

    @check(id="EVT001", service="events", severity=CRITICAL, layer=CAUSE,
           title="The execution-finder schedule rule is enabled",
           remediation="aws events enable-rule --name {rule}", reads=("rules", "functions"))
    def finder_rule_enabled(snap: Snapshot) -> Iterator[Finding]:
        ...
            yield fail(rule.arn, f"{rule.name} is DISABLED", explains=POLLER_NOT_RUNNING,
                       fix={"rule": rule.name})

Findings form chains: a finding ``shows`` what it observed (a tag such as ``wave-status-stale``) and
``explains`` the tags of what it would cause. The engine ranks the deepest failing cause that explains
the observed symptoms as the root cause.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from drsdoctor.fixes import Remedy

CheckFunction = Callable[["Snapshot"], "Iterable[Finding]"]

if TYPE_CHECKING:
    from drsdoctor.snapshot import Snapshot

# ---- statuses, severities, layers ----------------------------------------------------------------

PASS, WARN, FAIL, ERROR, SKIP = "pass", "warn", "fail", "error", "skip"
STATUSES = (PASS, WARN, FAIL, ERROR, SKIP)

CRITICAL, HIGH, MEDIUM, LOW, INFO = "critical", "high", "medium", "low", "info"
SEVERITIES = (CRITICAL, HIGH, MEDIUM, LOW, INFO)

# symptom: what the operator sees; mechanism: what stopped working; cause: what is misconfigured
SYMPTOM, MECHANISM, CAUSE = "symptom", "mechanism", "cause"
LAYERS = (SYMPTOM, MECHANISM, CAUSE)

SERVICES = ("states", "iam", "events", "lambda", "dynamodb", "drs", "cloudformation")

# ---- the tags findings show and explain (the vocabulary chains are built from) -------------------

EXECUTION_FAILED = "execution-failed"  # the execution ended FAILED, TIMED_OUT or ABORTED
EXECUTION_STUCK = "execution-stuck"  # still running, going round its polling loop
HISTORY_LIMIT = "history-limit"  # the execution is near the 25,000-event history limit
TASK_FAILING = "task-failing"  # Task states fail or keep retrying
WAVE_STATUS_STALE = "wave-status-stale"  # the wave status in DynamoDB is UNKNOWN or not moving
RECORD_MISSING = "record-missing"  # no execution record where the functions look for it
POLLER_NOT_RUNNING = "poller-not-running"  # the finder/poller are not being invoked
POLLER_FAILING = "poller-failing"  # they run and fail (errors in their logs)
WAVE_NOT_STARTED = "wave-not-started"  # no DRS job was created for the wave
SERVERS_NOT_LAUNCHED = "servers-not-launched"  # a DRS job ended with servers not launched

# What each broken thing leads to: a cause links to the symptoms even when the mechanism between
# them left no trace (no logs, so no "poller not invoked" finding).
LEADS_TO: dict[str, tuple[str, ...]] = {
    POLLER_NOT_RUNNING: (WAVE_STATUS_STALE,),
    POLLER_FAILING: (WAVE_STATUS_STALE,),
    RECORD_MISSING: (POLLER_NOT_RUNNING,),
    WAVE_NOT_STARTED: (WAVE_STATUS_STALE,),
    SERVERS_NOT_LAUNCHED: (EXECUTION_FAILED,),
    TASK_FAILING: (EXECUTION_FAILED, EXECUTION_STUCK),
    WAVE_STATUS_STALE: (EXECUTION_STUCK, EXECUTION_FAILED),  # a stale status ends in the wave timeout
    HISTORY_LIMIT: (EXECUTION_FAILED,),
}


def consequences(tags: Iterable[str]) -> set[str]:
    """The tags and everything they lead to, transitively."""
    found, pending = set(), list(tags)
    while pending:
        tag = pending.pop()
        if tag not in found:
            found.add(tag)
            pending.extend(LEADS_TO.get(tag, ()))
    return found

# ---- the operators' fix plan: each step is answered by the checks that declare it ----------------

PLAN_STEPS: tuple[tuple[str, str], ...] = (
    ("transitions", "Is the state machine transitioning, and is update_wave_status updating the wave?"),
    ("drs-permissions", ("Do the functions' roles have every DRS permission they need, the follow-on actions "
                         "of StartRecovery included?")),
    ("eventbridge", "Is the execution-finder rule enabled, and is the execution-poller being invoked?"),
    ("environment", "Do the Lambda environment variables name the DynamoDB tables that actually exist?"),
    ("definition", "Does the deployed state machine definition match the working reference?"),
)


@dataclass
class Finding:
    """One result of one check about one resource."""

    check: str
    status: str
    resource: str = ""
    detail: str = ""
    evidence: list[str] = field(default_factory=list)
    remediation: str = ""
    severity: str = ""  # empty: the check's own severity
    title: str = ""
    service: str = ""
    layer: str = ""  # empty: the check's own layer
    shows: tuple[str, ...] = ()
    explains: tuple[str, ...] = ()
    fix: Mapping[str, Any] | str | Remedy | None = field(default=None, repr=False, compare=False)
    # the fix as commands (argv and shell line) and the files they read; `remediation` is its line
    remedy: Remedy | None = None

    @property
    def failing(self) -> bool:
        return self.status in (FAIL, WARN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check, "status": self.status, "severity": self.severity, "resource": self.resource,
            "title": self.title, "detail": self.detail, "evidence": list(self.evidence),
            "remediation": self.remediation, "service": self.service, "layer": self.layer,
            "shows": list(self.shows), "explains": list(self.explains),
            "fix": self.remedy.to_dict() if self.remedy else None,
        }


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: what it is, what it reads, and the function that runs it."""

    id: str
    service: str
    severity: str
    title: str
    run: CheckFunction
    remediation: str = ""
    reads: tuple[str, ...] = ()
    layer: str = SYMPTOM
    plan_step: str | None = None
    module: str = ""
    description: str = ""

    def actions(self) -> tuple[str, ...]:
        """The read-only API actions this check's facts need, derived from the Snapshot's declarations: not
        the optional ones (`drsdoctor permissions` leaves them out the same way)."""
        from drsdoctor.snapshot import fact_actions

        declared, optional = fact_actions(), _optional_actions()
        return tuple(sorted({action for fact in self.reads for action in declared.get(fact, ())
                             if action not in optional}))

    def optional_actions(self) -> tuple[str, ...]:
        """The actions its facts' collectors use when allowed and do without when denied."""
        from drsdoctor.snapshot import fact_actions

        declared, optional = fact_actions(), _optional_actions()
        return tuple(sorted({action for fact in self.reads for action in declared.get(fact, ())
                             if action in optional}))

    def complete(self, partial: Finding) -> Finding:
        """Fill a finding yielded by the check with the check's own metadata."""
        failing = partial.status in (FAIL, WARN)
        remedy = partial.fix if isinstance(partial.fix, Remedy) and failing else partial.remedy
        return dataclasses.replace(
            partial, check=self.id, title=partial.title or self.title, service=self.service,
            layer=partial.layer or self.layer, severity=partial.severity or self.severity,
            remediation=partial.remediation or (remedy.line if remedy else (
                _remediation(self.remediation, partial.fix) if failing else "")),
            fix=None, remedy=remedy,
        )


def _optional_actions() -> set[str]:
    """Every optional action, as `drsdoctor permissions` lists them (drsdoctor.aws.allowlist): an action
    optional for one fact is optional everywhere."""
    from drsdoctor.snapshot import optional_fact_actions

    return {action for actions in optional_fact_actions().values() for action in actions}


# Every check registered by importing its module; the engine reads it after loading modules.
REGISTRY: dict[str, CheckSpec] = {}


class DuplicateCheckError(ValueError):
    """Two different functions claim the same check id."""


def check(*, id: str, service: str, severity: str, title: str, remediation: str = "",
          reads: Iterable[str] = (), layer: str = SYMPTOM, plan_step: str | None = None,
          ) -> Callable[[CheckFunction], CheckFunction]:
    """Register a function of a Snapshot as a check; ``reads`` names the Snapshot facts it uses."""
    if severity not in SEVERITIES:
        raise ValueError(f"check {id}: severity {severity!r} is not one of {SEVERITIES}")
    if layer not in LAYERS:
        raise ValueError(f"check {id}: layer {layer!r} is not one of {LAYERS}")
    if plan_step is not None and plan_step not in dict(PLAN_STEPS):
        raise ValueError(f"check {id}: plan step {plan_step!r} is not one of {[s for s, _ in PLAN_STEPS]}")

    def register(function: CheckFunction) -> CheckFunction:
        module = getattr(function, "__module__", "")
        spec = CheckSpec(
            id=id, service=service, severity=severity, title=title, run=function, remediation=remediation,
            reads=tuple(reads), layer=layer, plan_step=plan_step, module=module,
            description=(function.__doc__ or "").strip(),
        )
        known = REGISTRY.get(id)
        # re-importing the same module (a second --checks-dir load) replaces; another module may not
        if known is not None and (known.module, known.run.__qualname__) != (module, function.__qualname__):
            raise DuplicateCheckError(f"check id {id} is defined twice: in {known.module} and in {module}")
        REGISTRY[id] = spec
        function.check_spec = spec  # type: ignore[attr-defined]
        return function

    return register


# ---- what a check yields -------------------------------------------------------------------------

# a mapping fills the check's remediation template; a string replaces it; a Remedy gives the commands
Fix = Mapping[str, Any] | str | Remedy | None


def _finding(status: str, resource: str, detail: str, evidence: Iterable[str], shows: Iterable[str] | str,
             explains: Iterable[str] | str, fix: Fix, severity: str | None, title: str | None) -> Finding:
    return Finding(
        check="", status=status, resource=resource, detail=detail, evidence=[str(e) for e in evidence],
        shows=_tags(shows), explains=_tags(explains), severity=severity or "", title=title or "", fix=fix,
    )


def passed(resource: str = "", detail: str = "", evidence: Iterable[str] = ()) -> Finding:
    return _finding(PASS, resource, detail, evidence, (), (), None, None, None)


def warn(resource: str, detail: str, evidence: Iterable[str] = (), shows: Iterable[str] | str = (),
         explains: Iterable[str] | str = (), fix: Fix = None, severity: str | None = None) -> Finding:
    return _finding(WARN, resource, detail, evidence, shows, explains, fix, severity, None)


def fail(resource: str, detail: str, evidence: Iterable[str] = (), shows: Iterable[str] | str = (),
         explains: Iterable[str] | str = (), fix: Fix = None, severity: str | None = None) -> Finding:
    """A problem. ``fix`` fills the check's remediation template (a mapping) or replaces it (a string)."""
    return _finding(FAIL, resource, detail, evidence, shows, explains, fix, severity, None)


def skip(resource: str = "", detail: str = "") -> Finding:
    """The check does not apply here (nothing of what it checks exists): not a pass, not a problem."""
    return _finding(SKIP, resource, detail, (), (), (), None, None, None)


def error(resource: str, detail: str, evidence: Iterable[str] = ()) -> Finding:
    """The check could not tell: a fact is missing. Say which call or permission."""
    return _finding(ERROR, resource, detail, evidence, (), (), None, None, None)


def now_of(snap: Snapshot) -> datetime:
    """The checks' clock: when the facts were collected, so a saved bundle is re-checked identically."""
    return snap.collected_at or datetime.now(timezone.utc)


def _tags(value: Iterable[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _remediation(template: str, fix: Fix) -> str:
    if isinstance(fix, Remedy):
        return fix.line
    if isinstance(fix, str):
        return fix
    if not template:
        return ""
    values = _Blank(fix or {})
    # a template field with no value stays visible as {name}, so nothing is silently dropped
    return string.Formatter().vformat(template, (), values)


def iter_findings(results: Iterable[Finding] | None) -> Iterator[Finding]:
    """Tolerate a check that returns a list, a generator, a single finding, or nothing."""
    if results is None:
        return
    if isinstance(results, Finding):
        yield results
        return
    yield from results
