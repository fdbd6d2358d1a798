"""A diff as SARIF 2.1.0: one result per change, the rule being its category, the level its risk.

A small writer: the SARIF libraries on PyPI (sarif-om) bring a generated object model for
what is here a dozen keys; tests check the shape the specification requires.
"""

from __future__ import annotations

import json
from typing import Any

from drsdoctor import __version__
from drsdoctor.diff.model import CATEGORIES, DiffResult

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
RULE_TEXT = {
    "iam": "An IAM role's permissions or trust differ",
    "statemachine": "The state machine definition differs",
    "env": "A function's environment variables differ",
    "rule": "An EventBridge rule differs",
    "table": "A DynamoDB table differs",
    "function": "A Lambda function's configuration differs",
    "parameter": "A stack parameter differs",
    "output": "A stack output differs",
    "other": "A resource differs",
}


def render_sarif(result: DiffResult) -> str:
    rules = [
        {
            "id": f"diff/{category}",
            "name": category,
            "shortDescription": {"text": RULE_TEXT[category]},
            "defaultConfiguration": {"level": "warning"},
        }
        for category in CATEGORIES
    ]
    index = {category: n for n, category in enumerate(CATEGORIES)}
    location_uri = result.b.label if result.b.kind == "file" else f"stack/{result.b.label}"
    results: list[dict[str, Any]] = []
    for item in result.changes:
        results.append(
            {
                "ruleId": f"diff/{item.category}",
                "ruleIndex": index[item.category],
                "level": LEVELS[item.risk],
                "kind": "fail",
                "message": {"text": item.summary},
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": location_uri}},
                        "logicalLocations": [
                            {
                                "name": item.resource,
                                "fullyQualifiedName": f"{item.resource}.{item.path}"
                                if item.path
                                else item.resource,
                                "kind": "resource",
                            }
                        ],
                    }
                ],
                "properties": {
                    "kind": item.kind,
                    "path": item.path,
                    "risk": item.risk,
                    "type": item.type,
                    "drift": item.drift,
                },
            }
        )
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "drsdoctor diff-stacks",
                        "version": __version__,
                        "informationUri": "https://github.com/drsdoctor/drsdoctor",
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"a": result.a.label, "b": result.b.label, "summary": result.counts()},
            }
        ],
    }
    return json.dumps(log, indent=2, default=str)
