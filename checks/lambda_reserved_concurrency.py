"""LMB003: no function has reserved concurrency 0 (throttled: every invocation refused)."""

from __future__ import annotations

from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DOWN, function_label

from drsdoctor.checkapi import CAUSE, CRITICAL, Finding, check, fail, passed, skip
from drsdoctor.fixes import command, remedy
from drsdoctor.snapshot import Snapshot


@check(id="LMB003", service="lambda", severity=CRITICAL, layer=CAUSE, plan_step="eventbridge",
       title="No function is throttled to zero by reserved concurrency",
       remediation="aws lambda delete-function-concurrency --function-name {function}",
       reads=("functions",))
def reserved_concurrency(snap: Snapshot) -> Iterator[Finding]:
    if not snap.functions:
        yield skip(snap.target, "no functions were found")
        return
    for function in snap.functions:
        if function.reserved_concurrency == 0:
            yield fail(function.arn, f"{function_label(function)} has reserved concurrency 0: every "
                                     "invocation is throttled and it never runs",
                       evidence=[f"ReservedConcurrentExecutions=0 on {function.name}"],
                       explains=BREAKS_WHEN_DOWN.get(function.kind, ()),
                       fix=remedy(command("aws", "lambda", "delete-function-concurrency", "--function-name",
                                          function.name)))
        else:
            limit = function.reserved_concurrency
            reserved = "unreserved" if limit is None else f"{limit} reserved"
            yield passed(function.arn, f"{function.name} may run ({reserved})")
