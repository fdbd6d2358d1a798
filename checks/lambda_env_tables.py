"""LMB001: every environment variable that names a DynamoDB table names one that exists.

A variable names a table when its name says TABLE, its value is a table ARN, or its value is the
name of a table in the region. A missing one is reported with the near miss that does exist
(drs-execution-history-prod against drs-execution-history-dev).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DOWN, function_label

from drsdoctor.checkapi import (
    CAUSE,
    CRITICAL,
    Finding,
    check,
    fail,
    passed,
    skip,
)
from drsdoctor.snapshot import Function, Snapshot


@check(id="LMB001", service="lambda", severity=CRITICAL, layer=CAUSE, plan_step="environment",
       title="Lambda environment variables name DynamoDB tables that exist",
       remediation="aws lambda update-function-configuration --function-name {function} "
                   "--environment '{environment}'",
       reads=("functions", "tables"))
def env_tables(snap: Snapshot) -> Iterator[Finding]:
    if not snap.functions:
        yield skip(snap.target, "no functions were found")
        return
    existing = set(snap.region_table_names) | {t.name for t in snap.tables if t.exists}
    gone = {t.name for t in snap.tables if not t.exists}
    for function in snap.functions:
        named = table_variables(function, existing)
        if not named:
            continue
        for variable, table in named.items():
            if table in existing and table not in gone:
                yield passed(f"{function.arn}#{variable}", f"{function.name} {variable}={table} exists")
                continue
            near = difflib.get_close_matches(table, sorted(existing), n=1, cutoff=0.75)
            hint = f"; did you mean {near[0]}?" if near else ""
            fixed = dict(function.environment)
            fixed[variable] = near[0] if near else "TABLE_NAME"
            environment = json.dumps({"Variables": fixed}, separators=(",", ":"))
            yield fail(f"{function.arn}#{variable}",
                       f"{function_label(function)} has {variable}={table}, and no table {table} exists in "
                       f"{snap.region or 'the region'}{hint}",
                       evidence=[f"tables in the region: {', '.join(sorted(existing)) or '(none listed)'}"],
                       explains=BREAKS_WHEN_DOWN.get(function.kind, ()),
                       fix={"function": function.name, "environment": environment})


def table_variables(function: Function, existing: set[str]) -> dict[str, str]:
    """Variable -> table name, for the variables that name a table."""
    named = {}
    for variable, value in function.environment.items():
        if ":dynamodb:" in value and ":table/" in value:
            named[variable] = value.split(":table/", 1)[1].split("/", 1)[0]
        elif "TABLE" in variable.upper() or value in existing:
            named[variable] = value
    return named
