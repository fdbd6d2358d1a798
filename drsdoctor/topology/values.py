"""What a function's environment values name, whatever the variables are called: a table (by name or
ARN), an index, a function, a state machine, a region, a role, an account."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGION = re.compile(r"^(?:[a-z]{2}(?:-gov|-iso[a-z]?)?)-[a-z]+-\d$")
ACCOUNT = re.compile(r"^\d{12}$")


@dataclass
class Known:
    """What the deployment is known to hold, to recognise plain names by."""

    tables: set[str] = field(default_factory=set)
    functions: dict[str, str] = field(default_factory=dict)  # name -> ARN
    machines: set[str] = field(default_factory=set)  # ARNs
    indexes: dict[str, set[str]] = field(default_factory=dict)  # index name -> the tables that have it


@dataclass(frozen=True)
class Named:
    kind: str  # table | index | function | statemachine | region | role | account
    value: str  # the table or function name, index as TABLE/INDEX, an ARN, a region
    how: str  # why: "a table ARN", "a table in the region", ...


def resolve(value: str, known: Known) -> Named | None:
    """What one environment value names, or None for a value that names nothing drsdoctor knows."""
    value = value.strip()
    if value.startswith("arn:"):
        return _from_arn(value)
    if REGION.match(value):
        return Named("region", value, "a region name")
    if ACCOUNT.match(value):
        return Named("account", value, "an account id")
    if value in known.tables:
        return Named("table", value, "the name of a table in the region")
    if value in known.functions:
        return Named("function", value, "the name of a function of the orchestrator")
    if value in known.indexes:
        tables = sorted(known.indexes[value])
        return Named("index", f"{tables[0]}/{value}", f"the name of an index of table {tables[0]}")
    return None


def _from_arn(arn: str) -> Named | None:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, resource = parts[2], parts[5]
    if service == "dynamodb" and resource.startswith("table/"):
        pieces = resource.split("/")
        if len(pieces) >= 4 and pieces[2] == "index":
            return Named("index", f"{pieces[1]}/{pieces[3]}", "an index ARN")
        return Named("table", pieces[1], "a table ARN")
    if service == "lambda" and resource.startswith("function:"):
        return Named("function", ":".join(arn.split(":")[:7]), "a function ARN")
    if service == "states" and resource.startswith("stateMachine:"):
        return Named("statemachine", arn, "a state machine ARN")
    if service == "iam" and resource.startswith("role/"):
        return Named("role", arn, "a role ARN")
    return None


def table_name_hinted(variable: str) -> bool:
    """A variable whose value is not a table of the region but whose name says it is one (a mistyped or
    deleted table still names a table)."""
    return "TABLE" in variable.upper() and "ARN" not in variable.upper()
