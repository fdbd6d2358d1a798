"""Calls AWS for the collector: each distinct call once per run, independent calls in parallel, and a
failed call recorded as a fact error instead of ending the run."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from drsdoctor.aws import AwsSession, MutatingCallRefused
from drsdoctor.aws.failures import BUDGET_CODE, AwsFailure, api_call, failure_from, in_words
from drsdoctor.aws.session import NOT_COLLECTED, BudgetExhausted
from drsdoctor.errors import DrsdoctorError
from drsdoctor.snapshot import FactError, Snapshot, fact_actions, optional_fact_actions

T = TypeVar("T")
__all__ = ["BUDGET_CODE", "NOT_COLLECTED", "PER_EXECUTION", "ExecutionUnreadable", "Gatherer", "Memo",
           "budget_ran_out", "mark_not_collected", "mark_unreached"]
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# Calls whose answer belongs to one execution: never shared between the executions of a machine (and so
# dropped with that execution's Gatherer, histories included). Every other call reads what they all share.
PER_EXECUTION = frozenset({"describe_execution", "get_execution_history", "get_item", "query",
                           "describe_jobs", "describe_job_log_items", "describe_source_servers",
                           "describe_recovery_instances"})


# Facts without which there is nothing to diagnose: when one cannot be read, the run (or, over many
# executions, the execution's row) ends with one line saying why, and no verdict.
ESSENTIAL = frozenset({"execution"})
# Facts found through others: when a fact listed here could not be read, an empty answer for the fact
# found through it means "never looked", not "none" (the functions come from the definition, the tables
# and rules from the functions, the jobs from the record and the history...).
FOUND_THROUGH: dict[str, tuple[str, ...]] = {
    "functions": ("state_machine",),
    "stack": ("state_machine",),
    "tables": ("functions",),
    "rules": ("functions",),
    "role_decisions": ("functions",),
    "execution_record": ("state_machine", "functions", "tables"),  # the tables to look in: its Task targets
    "drs_jobs": ("execution_record", "history"),
    "job_log_items": ("drs_jobs",),
}
NOT_REACHED = "NotRead"


class ExecutionUnreadable(DrsdoctorError):
    """The execution itself could not be described: exit 3, one line in the operator's words, no verdict."""

    def __init__(self, failure: AwsFailure, budget: float | None = None) -> None:
        self.failure = failure
        super().__init__(f"cannot read the execution: {in_words(failure, budget)}")


class Memo:
    """Answers computed once by key, whichever thread asks first; the others wait for that answer (or the
    same exception). One per execution; one more shared by all the executions of a state machine."""

    def __init__(self) -> None:
        self._answers: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def once(self, key: str, compute: Callable[[], T]) -> T:
        with self._lock:
            pending = self._answers.get(key)
            owner = pending is None
            if owner:
                pending = self._answers[key] = Future()
        assert pending is not None
        if not owner:
            answer: T = pending.result()
            return answer
        try:
            found = compute()
        except BaseException as error:
            pending.set_exception(error)
            raise
        pending.set_result(found)
        return found


class Gatherer:
    """What the collector steps share: the session, the snapshot being filled, and the memo of calls
    (`shared`: the memo of the calls every execution of one state machine makes alike)."""

    def __init__(self, session: AwsSession, snapshot: Snapshot, region: str, workers: int = 12,
                 progress: Progress | None = None, shared: Memo | None = None) -> None:
        self.session, self.snapshot, self.region = session, snapshot, region
        self.progress = progress or _quiet
        self._workers = workers
        self._memo = Memo()
        self.shared = shared or self._memo
        self._lock = threading.Lock()
        self._clock_read = False
        self._last: Any = threading.local()  # this thread's last call: named when its answer cannot be read
        self.reach: dict[str, AwsSession] = {}  # another account's session (where DRS runs) by account id

    def elsewhere(self, session: AwsSession, region: str) -> Gatherer:
        """A gatherer for another account's calls (`session`: its credentials), filling the same snapshot:
        its own answers (another account's DescribeJobs is another answer), the same lock for the lists."""
        other = Gatherer(session, self.snapshot, region, self._workers, self.progress,
                         shared=self.once(f"answers of account session {id(session)}", Memo))
        other._lock, other.reach = self._lock, self.reach
        return other

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """A value every execution of the machine computes alike (a role's policies): computed once."""
        return self.shared.once(key, compute)

    def call(self, service: str, operation: str, resource: str, region: str | None = None,
             **params: Any) -> Any:
        """One AWS call (boto3 service and snake_case method name); the same call again returns the same
        answer without asking AWS twice. Raises AwsFailure."""
        key = json.dumps([service, region or self.region, operation, params], sort_keys=True, default=str)
        self._last.call = (service, operation, region)
        memo = self._memo if operation in PER_EXECUTION else self.shared
        try:
            return memo.once(key, lambda: self._ask(service, operation, resource, region, params))
        finally:
            self._read_clock()

    def _read_clock(self) -> None:
        """A sandbox's simulated "now" at this gatherer's first answer becomes the checks' clock."""
        if not self._clock_read and (stamped := self.session.endpoint_time.latest) is not None:
            self._clock_read = True
            self.snapshot.collected_at = stamped

    def _ask(self, service: str, operation: str, resource: str, region: str | None,
             params: dict[str, Any]) -> Any:
        client = self.session.client(service, region or self.region)
        try:
            if self.session.out_of_budget():
                raise self.session.ran_out(client.meta.service_model.service_id.hyphenize(), operation)
            return getattr(client, operation)(**params)
        except MutatingCallRefused:
            raise
        except BudgetExhausted as ran_out:  # named again with the resource: the hooks do not know it
            raise BudgetExhausted(client.meta.service_model.service_id.hyphenize(),
                                  _operation_name(client, operation), resource, ran_out.after,
                                  ran_out.budget) from None
        except Exception as error:  # botocore raises many kinds; failure_from names them all
            model = client.meta.service_model
            raise failure_from(error, model.service_id.hyphenize(), _operation_name(client, operation),
                               resource, model.signing_name) from None

    def fact(self, fact: str, resource: str, step: Callable[[], T]) -> T | None:
        """Run one gathering step; a call that fails becomes a FactError on `fact` (the snapshot field)
        and the step's answer is None. No credentials or no endpoint ends the run: nothing else would work."""
        try:
            return step()
        except AwsFailure as failure:
            if failure.fatal:
                raise
            self.record(fact, resource, failure)
            return None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as malformed:
            # an answer missing a field or of the wrong shape (a truncated or hostile endpoint): that fact
            # is missing, named by the call that answered it, never a crash of the whole run
            self.record(fact, resource, self._malformed(resource, malformed))
            return None

    def _malformed(self, resource: str, error: Exception) -> AwsFailure:
        detail = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        message = f"the answer could not be read ({detail})"
        last = getattr(self._last, "call", None)
        if last is None:
            return AwsFailure("aws", "?", resource, "MalformedResponse", message)
        service, operation, region = last
        client = self.session.client(service, region or self.region)
        return AwsFailure(client.meta.service_model.service_id.hyphenize(),
                          _operation_name(client, operation), resource, "MalformedResponse", message)

    def record(self, fact: str, resource: str, failure: AwsFailure) -> None:
        """Keep a failed call as the error of `fact` (or that resource's part of it). Raises
        ExecutionUnreadable for an ESSENTIAL fact."""
        if fact in ESSENTIAL:
            raise ExecutionUnreadable(failure, self.session.budget)
        optional = optional_fact_actions().get(fact, {})
        if failure.kind == "denied" and failure.needed_permission in optional:
            # not granted by `drsdoctor permissions` on purpose: said, not counted as a missing fact
            note = (f"{failure.needed_permission} is not allowed, so diagnose does without: "
                    f"{optional[failure.needed_permission]} (`drsdoctor permissions --include-optional`)")
            with self._lock:
                if note not in self.snapshot.notes:
                    self.snapshot.notes.append(note)
            return
        with self._lock:
            self.snapshot.fact_errors.append(FactError(
                fact=fact, call=api_call(failure.service, failure.operation), code=failure.code,
                resource=resource, message=failure.message,
                # only a denial is fixed by a grant: a throttle or a timeout names no permission
                permission=failure.needed_permission if failure.kind == "denied" else None))

    def in_parallel(self, steps: Iterable[Callable[[], Any]]) -> list[Any]:
        """Run independent steps at once; answers in the order given. Steps record their own fact errors;
        the first fatal failure is raised once every step has finished."""
        steps = list(steps)
        if len(steps) <= 1:
            return [step() for step in steps]
        # the first step runs in this thread, which would only wait: one thread fewer to start and join
        with ThreadPoolExecutor(max_workers=min(self._workers, len(steps) - 1)) as pool:
            futures = [pool.submit(step) for step in steps[1:]]
            first: Future[Any] = Future()
            try:
                first.set_result(steps[0]())
            except BaseException as error:  # raised below in its turn, once every step has finished
                first.set_exception(error)
        return [future.result() for future in [first, *futures]]

    def pages(self, service: str, operation: str, resource: str, token_in: str, token_out: str,
              max_pages: int = 50, **params: Any) -> Iterator[dict[str, Any]]:
        """Pages of a paginated call, each page a memoized call; stops at `max_pages`."""
        token = None
        for _ in range(max_pages):
            page = self.call(service, operation, resource, **params, **({token_in: token} if token else {}))
            yield page
            token = page.get(token_out)
            if not token:
                return


def mark_not_collected(snapshot: Snapshot) -> None:
    """After the budget ran out: every fact still empty and not already an error was never reached (its
    step waited on one that was cut short), so it is named missing rather than trusted as empty."""
    if not budget_ran_out(snapshot):
        return
    for fact, actions in fact_actions().items():
        if not getattr(snapshot, fact) and not snapshot.errors_for(fact):
            snapshot.fact_errors.append(FactError(fact=fact, call=actions[0], code=BUDGET_CODE,
                                                  message=NOT_COLLECTED))


def mark_unreached(snapshot: Snapshot) -> None:
    """Every fact still empty, with no error of its own, that is found through a fact that could not be
    read (FOUND_THROUGH) is named missing: never looked for is not the same as none."""
    unread = {fact: errors[0] for fact in fact_actions()
              if _absent(getattr(snapshot, fact)) and (errors := snapshot.errors_for(fact))}
    changed = True
    while changed:  # until no fact is found through one newly named missing
        changed = False
        for fact, sources in FOUND_THROUGH.items():
            through = next((unread[source] for source in sources if source in unread), None)
            if through is None or fact in unread or not _absent(getattr(snapshot, fact)):
                continue
            unread[fact] = FactError(
                fact=fact, call=fact_actions()[fact][0],
                code=BUDGET_CODE if through.code == BUDGET_CODE else NOT_REACHED,
                message=f"not collected: found through {through.fact}, which could not be read")
            snapshot.fact_errors.append(unread[fact])
            changed = True


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, (list, dict)) and not value)


def budget_ran_out(snapshot: Snapshot) -> list[str]:
    """The facts (sorted, each once) that the --timeout budget kept from being gathered; empty if none."""
    return sorted({error.fact for error in snapshot.fact_errors if error.code == BUDGET_CODE})


def _operation_name(client: Any, method: str) -> str:
    """botocore's operation name (DescribeExecution) for a client method name (describe_execution)."""
    names: dict[str, str] = client.meta.method_to_api_mapping
    return names.get(method, method)
