"""LMB001: every environment variable that names a DynamoDB table names one that exists.

A variable names a table when its name says TABLE, its value is a table ARN, or its value is the
name of a table in the region. A missing one is reported with the near miss that does exist
(drs-execution-history-prod against drs-execution-history-dev).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from drsdoctor.checks._common import BREAKS_WHEN_DOWN, function_label
from drsdoctor.checks._fixes import set_variable

from drsdoctor.checkapi import (
    CAUSE,
    CRITICAL,
    Finding,
    check,
    error,
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
    described_missing = {t.name for t in snap.tables if not t.exists}
    existing -= described_missing
    unlisted = snap.missing("region_table_names")
    listed = bool(snap.region_table_names) and unlisted is None  # ListTables answered: it names them all
    for function in snap.functions:
        for variable, table in table_variables(function, existing).items():
            where = f"{function.arn}#{variable}"
            unread = snap.missing("tables", table) or unlisted
            if table not in existing and table not in described_missing and not listed and unread:
                # DescribeTable did not answer, nor a ListTables (failed, or not allowed): it may well exist
                yield error(where, f"could not tell whether table {table} ({function.name} {variable}) "
                                   f"exists: {unread.describe()}")
                continue
            agreed = _agreed_value(snap, function, variable, existing)
            if table in existing and agreed in (None, table):
                yield passed(where, f"{function.name} {variable}={table} exists")
                continue
            if table in existing:  # it exists, but it is another deployment's: the -prod/-dev mix-up
                detail = (f"{function_label(function)} has {variable}={table} while the other functions use "
                          f"{agreed}: it reads and writes another environment's table")
                suggestion = agreed
            else:
                near = difflib.get_close_matches(table, sorted(existing), n=1, cutoff=0.75)
                suggestion = agreed or (near[0] if near else None)
                hint = f"; did you mean {suggestion}?" if suggestion else ""
                region = snap.region or "the region"
                detail = (f"{function_label(function)} has {variable}={table}, and no table {table} "
                          f"exists in {region}{hint}")
            yield fail(where, detail,
                       evidence=[f"tables in the region: {', '.join(sorted(existing)) or '(none listed)'}"],
                       explains=BREAKS_WHEN_DOWN.get(function.kind, ()),
                       fix=set_variable(function, variable, suggestion) if suggestion else
                       f"Set {variable} of {function.name} to the table it should use (no table in the "
                       "region is a near miss to suggest)")


def _agreed_value(snap: Snapshot, function: Function, variable: str, existing: set[str]) -> str | None:
    """The existing table every other function names in the same variable, when they all agree."""
    values = {other.environment[variable] for other in snap.functions
              if other is not function and variable in other.environment}
    if len(values) != 1:
        return None
    (value,) = values
    return value if value in existing else None


def table_variables(function: Function, existing: set[str]) -> dict[str, str]:
    """Variable -> table name, for the variables that name a table."""
    named = {}
    for variable, value in function.environment.items():
        if ":dynamodb:" in value and ":table/" in value:
            named[variable] = value.split(":table/", 1)[1].split("/", 1)[0]
        elif "TABLE" in variable.upper() or value in existing:
            named[variable] = value
    return named
