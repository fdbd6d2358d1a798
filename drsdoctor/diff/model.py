"""What a diff is made of: the two sides (resources, parameters, outputs) and the changes between them.

JSON (drsdoctor.diff/1): {"schema", "a": side, "b": side, "changes": [change], "summary"}, where a side is
{label, kind: file|stack|reference, stack, parameters, unread: [why a resource's live configuration was
not read, naming the denied call, or why a nested stack was not followed]}; a change is {resource, type, kind:
added|removed|modified, category: iam|statemachine|env|rule|table|function|parameter|output|other, path,
before, after, risk: high|medium|low, summary, drift: null|a|b|both}; and summary is {high, medium, low,
total, identical}. Changes come highest risk first. Values are normalised: `<Logical>` / `<Logical.Arn>`
stand for a resource of the stack, `${EnvironmentName}` / `${AWS::AccountId}` for each side's own names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drsdoctor.diff.secrets import REDACTED, shown

SCHEMA = "drsdoctor.diff/1"
RISKS = ("high", "medium", "low")
CATEGORIES = ("iam", "statemachine", "env", "rule", "table", "function", "parameter", "output", "other")
KINDS = ("added", "removed", "modified")
DELETED = "__deleted__"  # the live marker of a resource the service no longer has


@dataclass
class Resource:
    """One resource of one side: its template properties and, for a deployed side, what is live.

    `live` holds only the fields read from the service, in the template's shape, already
    normalised; the effective view is the template overlaid with them.
    """

    logical_id: str
    type: str
    properties: dict[str, Any]
    live: dict[str, Any] | None = None
    physical_id: str | None = None

    @property
    def deleted(self) -> bool:
        """The stack lists it, the service no longer has it."""
        return bool(self.live and self.live.get(DELETED))

    def effective(self) -> dict[str, Any]:
        if not self.live:
            return self.properties
        merged = dict(self.properties)
        merged.update(self.live)
        return merged


@dataclass
class Side:
    """One thing being compared: a template file, a deployed stack, or the reference."""

    label: str
    kind: str  # file | stack | reference
    parameters: dict[str, Any]
    identity: set[str]
    resources: dict[str, Resource]
    outputs: dict[str, Any]
    stack_name: str | None = None
    secret_parameters: set[str] = field(default_factory=set)  # NoEcho: CloudFormation itself hides them
    unread: list[str] = field(default_factory=list)  # live configuration not read, and why (a denied call)
    unfollowed: set[str] = field(default_factory=set)  # nested stacks (paths) whose template was not read

    def shown_parameter(self, key: str, value: Any) -> Any:
        return REDACTED if value is not None and key in self.secret_parameters else shown(key, value)

    def describe(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "stack": self.stack_name,
            "parameters": {k: self.shown_parameter(k, v) for k, v in sorted(self.parameters.items())},
            "unread": list(self.unread),
        }


@dataclass
class Change:
    """One difference a user would notice; `drift` says which side's live configuration left its template."""

    resource: str
    type: str
    kind: str
    category: str
    path: str
    before: Any
    after: Any
    risk: str
    summary: str
    drift: str | None = None

    def sort_key(self) -> tuple[int, str, str, str]:
        return (RISKS.index(self.risk), self.category, self.resource, self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "type": self.type,
            "kind": self.kind,
            "category": self.category,
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "risk": self.risk,
            "summary": self.summary,
            "drift": self.drift,
        }


@dataclass
class DiffResult:
    a: Side
    b: Side
    changes: list[Change] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.changes

    def counts(self) -> dict[str, int]:
        return {risk: sum(1 for c in self.changes if c.risk == risk) for risk in RISKS}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "a": self.a.describe(),
            "b": self.b.describe(),
            "changes": [c.to_json() for c in self.changes],
            "summary": {**self.counts(), "total": len(self.changes), "identical": self.identical},
        }
