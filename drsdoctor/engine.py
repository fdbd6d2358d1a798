"""Finds checks, runs them over a Snapshot, and ranks the root cause.

Checks come from three places, all loaded the same way (import the module, its @check decorators
register): the built-in ``drsdoctor.checks`` package, ``--checks-dir`` folders, and packages that
register the ``drsdoctor.checks`` entry-point group.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import pkgutil
import re
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from drsdoctor import exitcodes
from drsdoctor.aws.failures import classify
from drsdoctor.checkapi import (
    CAUSE,
    ERROR,
    FAIL,
    LAYERS,
    MECHANISM,
    PASS,
    PLAN_STEPS,
    REGISTRY,
    SEVERITIES,
    SKIP,
    STATUSES,
    SYMPTOM,
    WARN,
    CheckSpec,
    Finding,
    consequences,
    iter_findings,
)
from drsdoctor.errors import InputError
from drsdoctor.report.timeline import Timeline
from drsdoctor.report.timeline import build as build_timeline
from drsdoctor.secrets import Scrubber
from drsdoctor.snapshot import Snapshot

ENTRY_POINT_GROUP = "drsdoctor.checks"


@dataclass
class LoadedChecks:
    checks: list[CheckSpec]
    problems: list[str] = field(default_factory=list)  # plugins that would not load, one line each


def load_checks(checks_dirs: Iterable[str | Path] = (), entry_points: bool = True) -> LoadedChecks:
    """Import the built-in checks, every module in ``checks_dirs`` and the entry-point plugins."""
    modules: set[str] = set()
    problems: list[str] = []
    import drsdoctor.checks as builtin

    for info in sorted(pkgutil.iter_modules(builtin.__path__), key=lambda info: info.name):
        if not info.name.startswith("_"):
            modules.add(importlib.import_module(f"{builtin.__name__}.{info.name}").__name__)
    for folder in checks_dirs:
        modules.update(_import_folder(Path(folder)))
    if entry_points:
        for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
            except KeyboardInterrupt:
                raise
            except BaseException as bad:  # a broken plugin (even one calling sys.exit) must not stop it
                problems.append(f"entry point {entry.name} ({entry.value}) did not load: "
                                f"{type(bad).__name__}: {bad}")
                continue
            modules.add(str(getattr(loaded, "__module__", None) or getattr(loaded, "__name__", "")))
    checks = sorted((spec for spec in REGISTRY.values() if spec.module in modules), key=lambda spec: spec.id)
    return LoadedChecks(checks, problems)


def _import_folder(folder: Path) -> set[str]:
    if not folder.is_dir():
        raise InputError(f"--checks-dir {folder}: not a directory")
    # a name unique to the folder, so two folders may each hold a checks.py
    prefix = "drsdoctor_user_checks_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    names = set()
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"{prefix}.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InputError(f"--checks-dir: cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as bad:  # the user's check file is input (sys.exit too): one line, exit 2
            del sys.modules[name]
            where = f" (line {bad.lineno})" if isinstance(bad, SyntaxError) else ""
            message = f"check module {path}{where}: {type(bad).__name__}: {bad}"
            raise InputError(message.splitlines()[0]) from None
        names.add(name)
    return names


def select(checks: Sequence[CheckSpec], only: Iterable[str] = (),
           skip: Iterable[str] = ()) -> list[CheckSpec]:
    """Keep the checks named with --check (all when none) minus those named with --skip."""
    known = {spec.id for spec in checks}
    only, skip = {i.upper() for i in only}, {i.upper() for i in skip}
    for wanted in only | skip:
        if wanted not in known:
            close = difflib.get_close_matches(wanted, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise InputError(f"no check with id {wanted}{hint} (see `drsdoctor checks`)")
    return [spec for spec in checks if (not only or spec.id in only) and spec.id not in skip]


# ---- running -------------------------------------------------------------------------------------

def run_check(spec: CheckSpec, snap: Snapshot) -> list[Finding]:
    """Run one check; missing facts and crashes become ``error`` findings, never a pass."""
    # a fact is missing as a whole when nothing of it was gathered and a call for it failed
    missing = [problem for fact in spec.reads for problem in snap.errors_for(fact)[:1]
               if not problem.resource or _absent(getattr(snap, fact, None))]
    if missing:  # one error for the check, naming every call and permission that was missing
        first = missing[0]
        facts = ", ".join(problem.fact for problem in missing)
        return [spec.complete(Finding(
            check="", status=ERROR, resource=first.resource or snap.target,
            detail=f"could not read {facts}: " + "; ".join(problem.describe() for problem in missing),
            evidence=[problem.message for problem in missing if problem.message]))]
    try:
        findings = [spec.complete(finding) for finding in iter_findings(spec.run(snap))]
    except KeyboardInterrupt:
        raise
    except BaseException as bug:  # sys.exit in a check must not end the diagnosis with its code
        last = traceback.extract_tb(bug.__traceback__)[-1]
        return [spec.complete(Finding(
            check="", status=ERROR, resource=snap.target,
            detail=f"the check crashed: {type(bug).__name__}: {bug}",
            evidence=[f"{Path(last.filename).name}:{last.lineno} in {last.name}"]))]
    bad = [finding for finding in findings if finding.status not in STATUSES]
    if bad:
        return [spec.complete(Finding(check="", status=ERROR, resource=snap.target,
                                      detail=f"the check yielded an unknown status {bad[0].status!r}"))]
    # parts of a fact that are missing: their passes cannot be trusted, say what was not read
    for fact in spec.reads:
        for problem in snap.errors_for(fact):
            unread = problem.resource
            findings = [f for f in findings if not (f.status == PASS and _concerns(f.resource, unread))]
            # each missing call is named, even where another call's error already stands for the resource
            if not any(f.status == ERROR and _concerns(f.resource, unread) and problem.call in f.detail
                       for f in findings):
                findings.append(spec.complete(Finding(
                    check="", status=ERROR, resource=problem.resource,
                    detail=f"could not read {problem.fact}: {problem.describe()}")))
    if not findings:
        findings = [spec.complete(Finding(check="", status=SKIP, resource=snap.target,
                                          detail="nothing to check in this snapshot"))]
    return findings


def _concerns(finding_resource: str, unread: str) -> bool:
    """Whether a finding is about a resource that could not be read: the same name or ARN, or one that
    names it (a function's ARN, ``table#index``, ``function-arn#VARIABLE``): checks and the collector name
    the same thing differently."""
    if not unread:
        return False
    if finding_resource == unread or finding_resource.split("#", 1)[0] == unread:
        return True
    return unread in re.split(r"[:/#]", finding_resource)


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, (list, dict)) and not value)


def run_checks(snap: Snapshot, checks: Sequence[CheckSpec]) -> list[Finding]:
    return [finding for spec in checks for finding in run_check(spec, snap)]


# ---- root cause ----------------------------------------------------------------------------------

@dataclass
class RootCause:
    finding: Finding
    chain: list[Finding]  # what it explains, mechanism before symptom
    also: list[Finding] = field(default_factory=list)  # other failing causes, next in rank

    @property
    def summary(self) -> str:
        return self.finding.detail


def _explained_by(cause: Finding, failing: list[Finding], implied: bool = True) -> list[Finding]:
    """Every failing finding reachable from ``cause`` through explains -> shows links, nearest first;
    with ``implied``, also through what the explained tags lead to (checkapi.LEADS_TO)."""
    seen: list[Finding] = []
    frontier = [cause]
    while frontier:
        current = frontier.pop(0)
        explains = set(current.explains)
        if implied:  # what it explains, and what that and what it shows lead to
            explains = consequences(explains) | (consequences(current.shows) - set(current.shows))
        for other in failing:
            if other is cause or any(other is known for known in seen):
                continue
            if explains & set(other.shows):
                seen.append(other)
                frontier.append(other)
    return seen


def rank_root_cause(findings: Sequence[Finding]) -> RootCause | None:
    """The deepest failing finding that explains the most observed symptoms; fail before warn; and never
    a cause that reaches a symptom only by implication where the execution's own failure explains it."""
    failing = [finding for finding in findings if finding.status in (FAIL, WARN)]
    if not failing:
        return None
    observed = {id(f) for f in failing if f.layer == SYMPTOM}
    reached = {id(f): _explained_by(f, failing) for f in failing}
    direct = {id(f): _explained_by(f, failing, implied=False) for f in failing}
    preempted = _never_got_there(failing, observed, reached, direct)

    def rank(item: tuple[int, Finding]) -> tuple[int, ...]:
        index, finding = item
        symptoms = sum(1 for f in reached[id(finding)] if id(f) in observed) + (id(finding) in observed)
        # a cause whose mechanism was observed beats one linked to the symptoms only by implication
        witnessed = sum(1 for f in direct[id(finding)] if f.layer == MECHANISM)
        return (finding.status == FAIL, symptoms > 0 or not observed, id(finding) not in preempted,
                LAYERS.index(finding.layer), witnessed, symptoms, len(reached[id(finding)]),
                -SEVERITIES.index(finding.severity), -index)

    ordered = sorted(enumerate(failing), key=rank, reverse=True)
    root = ordered[0][1]
    chain = list(reached[id(root)])
    chain.sort(key=lambda finding: -LAYERS.index(finding.layer))
    # other causes to fix; when the root is the execution's own failure (no cause found for it), also a
    # cause that only warns: a gap on a path this run never reached fails the next run that does
    listed = (FAIL,) if root.layer == CAUSE else (FAIL, WARN)
    also = [f for _, f in ordered[1:]
            if f.layer == CAUSE and f.status in listed and f.check != root.check
            and all(f is not c for c in chain)]
    return RootCause(root, chain, also[:3])


def _never_got_there(failing: list[Finding], observed: set[int], reached: dict[int, list[Finding]],
                     direct: dict[int, list[Finding]]) -> set[int]:
    """The findings that reach an observed symptom only by implication (through consequences nobody saw)
    where another failure, which no cause explains, was observed leading straight to it: the execution's
    own failure (a state that failed with ConflictException) outranks a world fault it never reached (a
    poller that could not have polled a wave that never started). Their ids."""
    explained = {id(f) for cause in failing if cause.layer == CAUSE for f in reached[id(cause)]}
    own = [f for f in failing if id(f) not in explained]
    never = set()
    for finding in failing:
        by_implication = ({id(f) for f in reached[id(finding)] if id(f) in observed}
                          - {id(f) for f in direct[id(finding)]})
        if any(other is not finding and all(other is not f for f in reached[id(finding)])
               and by_implication & {id(f) for f in direct[id(other)]} for other in own):
            never.add(id(finding))
    return never


# ---- the operators' fix plan ---------------------------------------------------------------------

@dataclass
class PlanAnswer:
    step: str
    question: str
    status: str  # the worst status of the checks that answer it; skip when none ran
    answer: str
    checks: list[str]


_WORST = (FAIL, ERROR, WARN, PASS, SKIP)


def answer_plan(findings: Sequence[Finding], checks: Sequence[CheckSpec]) -> list[PlanAnswer]:
    answers = []
    for step, question in PLAN_STEPS:
        ids = [spec.id for spec in checks if spec.plan_step == step]
        mine = [finding for finding in findings if finding.check in ids]
        ran = [finding for finding in mine if finding.status != SKIP]
        if not ran:
            why = mine[0].detail if mine else "no check answers it"
            answers.append(PlanAnswer(step, question, SKIP, f"Not checked: {why}", ids))
            continue
        status = min((finding.status for finding in ran), key=_WORST.index)
        worst = [finding for finding in ran if finding.status == status]
        shown = worst
        if status == PASS:  # one line per check says what was verified
            shown = list({finding.check: finding for finding in reversed(worst)}.values())[::-1]
        shown = sorted(shown, key=lambda finding: -LAYERS.index(finding.layer))  # the cause first
        details = list(dict.fromkeys(finding.detail for finding in shown))  # one unread fact said once
        more = f" (+{len(details) - 2} more)" if len(details) > 2 else ""
        verdict = {FAIL: "No", ERROR: "Unknown", WARN: "Mostly", PASS: "Yes"}[status]
        text = "; ".join(details[:2])
        answers.append(PlanAnswer(step, question, status, f"{verdict}: {text}{more}", ids))
    return answers


# ---- the report ----------------------------------------------------------------------------------

@dataclass
class Report:
    target: str
    findings: list[Finding]
    root_cause: RootCause | None
    plan: list[PlanAnswer] = field(default_factory=list)
    collected_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    timeline: Timeline | None = None  # the execution drawn in time (report/timeline.py)
    # calls that could not complete (throttled past every retry, timed out, answered garbled): not a denial,
    # which is the operator's choice, after which a partial report still counts
    unfinished: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {status: sum(1 for f in self.findings if f.status == status) for status in STATUSES}

    def summary_line(self) -> str:
        counts = self.counts()
        words = ((FAIL, "failed"), (WARN, "warned"), (ERROR, "errored"), (PASS, "passed"), (SKIP, "skipped"))
        parts = [f"{counts[status]} {word}" for status, word in words]
        verdict = ("root cause: " + self.root_cause.finding.check) if self.root_cause else (
            "incomplete" if counts[ERROR] else "healthy")
        return f"{len(self.findings)} findings: " + ", ".join(parts) + f"; {verdict}"

    @property
    def exit_code(self) -> int:
        """1 when a check failed; 3 when nothing at all could be diagnosed (only errors), or when a call could
        not complete and no cause could be named (at 90% of calls throttled, "healthy", or a symptom named
        as the cause, would be a verdict from facts nobody read); else 0.

        The same rule as `drsdoctor diagnose` (commands/diagnose.py): a partial report still counts.
        """
        counts = self.counts()
        if counts[FAIL] and (self.root_cause is not None or not self.unfinished):
            return exitcodes.PROBLEMS
        if counts[ERROR] and (self.unfinished or not (counts[PASS] or counts[WARN])):
            return exitcodes.INCOMPLETE
        return exitcodes.OK


def diagnose(snap: Snapshot, checks: Sequence[CheckSpec] | None = None, only: Iterable[str] = (),
             skip: Iterable[str] = (), checks_dirs: Iterable[str | Path] = ()) -> Report:
    """Run the (selected) checks over a Snapshot and rank the root cause: the engine's one entry point."""
    notes = list(snap.notes)
    if checks is None:
        loaded = load_checks(checks_dirs)
        checks, notes = loaded.checks, notes + loaded.problems
    # a recovery plan execution (DRS's own orchestration) is judged by the checks that read one, and only then
    chosen = [spec for spec in select(checks, only, skip)
              if ("recovery_plan" in spec.reads) == (snap.recovery_plan is not None)]
    # a check may quote a value it read (or an error message may): secrets never reach a report
    scrubber = Scrubber.of_snapshot(snap)
    findings = scrubber.deep(run_checks(snap, chosen))
    # a fact found through one that failed (collect.gather's NotRead) counts through the one that failed
    unfinished = sorted({error.call for error in snap.fact_errors
                         if error.code != "NotRead" and classify(error.code) != "denied"})
    root = rank_root_cause(findings)
    if unfinished and root is not None and (root.finding.layer == SYMPTOM or root.finding.status == WARN):
        # seen stuck, or only a warning, where what would say why could not be read: no cause to name
        root = None
    # the operators' fix plan is a state machine's: a recovery plan has none of its steps
    plan = answer_plan(findings, chosen) if snap.recovery_plan is None else []
    return Report(snap.target, findings, root, plan, snap.collected_at, scrubber.deep(notes),
                  timeline=scrubber.deep(build_timeline(snap)), unfinished=unfinished)
