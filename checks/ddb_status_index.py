"""DDB003: the index the execution-finder queries exists and is ACTIVE on the table it queries."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator

from drsdoctor.checkapi import (
    CAUSE,
    CRITICAL,
    POLLER_FAILING,
    POLLER_NOT_RUNNING,
    Finding,
    check,
    error,
    fail,
    passed,
    skip,
)
from drsdoctor.fixes import Remedy, command, remedy
from drsdoctor.snapshot import Function, Snapshot

INDEX_STATUSES = "Table.GlobalSecondaryIndexes[].[IndexName,IndexStatus]"


@check(id="DDB003", service="dynamodb", severity=CRITICAL, layer=CAUSE, plan_step="environment",
       title="The status index the execution-finder queries exists",
       remediation="aws dynamodb update-table --table-name {table} --attribute-definitions "
                   "AttributeName=status,AttributeType=S --global-secondary-index-updates "
                   "'[{{\"Create\":{{\"IndexName\":\"{index}\",\"KeySchema\":[{{\"AttributeName\":\"status\","
                   "\"KeyType\":\"HASH\"}}],\"Projection\":{{\"ProjectionType\":\"ALL\"}}}}}}]'",
       reads=("functions", "tables"))
def status_index(snap: Snapshot) -> Iterator[Finding]:
    finders = snap.functions_of_kind("finder")
    queried = [(f, name, value) for f in finders for name, value in f.environment.items()
               if name.upper().endswith(("INDEX", "INDEX_NAME"))]
    if not queried:
        yield skip(snap.target, "no execution-finder names an index in its environment")
        return
    for function, variable, index_name in queried:
        table_name = _queried_table(snap, function)
        table = snap.table(table_name)
        where = f"{table_name}#{index_name}"
        unread = snap.missing("tables", table_name) if table is None else None
        if unread is not None:
            yield error(where, f"the indexes of {table_name} could not be read: {unread.describe()}")
            continue
        if table is None or not table.exists:
            yield skip(where, f"table {table_name or '(unnamed)'} is not there (see LMB001)")
            continue
        index = table.index(index_name)
        if index is None:
            names = [i.name for i in table.indexes]
            near = difflib.get_close_matches(index_name, names, n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]}?" if near else ""
            yield fail(where, f"{function.name} queries index {index_name} ({variable}) on {table_name}, "
                              f"which has no such index{hint}",
                       evidence=[f"indexes on {table_name}: {', '.join(names) or '(none)'}"],
                       explains=(POLLER_NOT_RUNNING, POLLER_FAILING),
                       fix=_create_index(snap, table_name, index_name))
        elif index.status != "ACTIVE":
            yield fail(where, f"index {index_name} on {table_name} is {index.status}, not ACTIVE",
                       explains=(POLLER_NOT_RUNNING, POLLER_FAILING),
                       fix=remedy(command("aws", "dynamodb", "describe-table", "--table-name", table_name,
                                          "--query", INDEX_STATUSES),
                                  note=f"index {index_name} becomes ACTIVE on its own: wait until it is"))
        else:
            yield passed(where, f"index {index_name} on {table_name} is ACTIVE")


def _create_index(snap: Snapshot, table: str, index: str) -> Remedy:
    """The index the finder queries, keyed on the record's status attribute (as the topology found it)."""
    place = snap.topology.record_place()
    attribute = (place.attribute if place and place.attribute and "." not in place.attribute else "status")
    created = [{"Create": {"IndexName": index, "KeySchema": [{"AttributeName": attribute, "KeyType": "HASH"}],
                           "Projection": {"ProjectionType": "ALL"}}}]
    return remedy(command("aws", "dynamodb", "update-table", "--table-name", table, "--attribute-definitions",
                          f"AttributeName={attribute},AttributeType=S", "--global-secondary-index-updates",
                          json.dumps(created, separators=(",", ":"))))


def _queried_table(snap: Snapshot, function: Function) -> str:
    """The table the function queries the index on: the record's table when the function names it, else the
    first table its environment names."""
    named = [t.name for t in snap.tables if t.name in function.environment.values()]
    named += [value for name, value in function.environment.items() if "TABLE" in name.upper()]
    place = snap.topology.record_place()
    if place is not None and place.table in named:
        return place.table
    return named[0] if named else ""
