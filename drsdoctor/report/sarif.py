"""The SARIF 2.1.0 report: one rule per check, one result per finding, resources as logical locations.

Written as plain dicts: the SARIF object model packages (sarif-om) are unmaintained and add two
dependencies for what is a small, stable JSON shape.
"""

from __future__ import annotations

import json
from typing import Any

from drsdoctor import __version__
from drsdoctor.checkapi import CRITICAL, ERROR, FAIL, HIGH, INFO, LOW, MEDIUM, PASS, SKIP, WARN, Finding
from drsdoctor.engine import Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF: only kind "fail" carries a level other than "none"
KIND = {PASS: "pass", FAIL: "fail", WARN: "fail", ERROR: "open", SKIP: "notApplicable"}
LEVEL = {CRITICAL: "error", HIGH: "error", MEDIUM: "warning", LOW: "note", INFO: "note"}
SECURITY_SEVERITY = {CRITICAL: "9.5", HIGH: "8.0", MEDIUM: "5.5", LOW: "3.0", INFO: "0.0"}


def _rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.check,
        "name": finding.check,
        "shortDescription": {"text": finding.title or finding.check},
        "defaultConfiguration": {"level": LEVEL.get(finding.severity, "warning")},
        "properties": {"tags": [finding.service, finding.layer], "severity": finding.severity,
                       "security-severity": SECURITY_SEVERITY.get(finding.severity, "5.5")},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    kind = KIND[finding.status]
    level = "warning" if finding.status == WARN else LEVEL.get(finding.severity, "warning")
    result: dict[str, Any] = {
        "ruleId": finding.check,
        "ruleIndex": rule_index,
        "kind": kind,
        "level": level if kind == "fail" else "none",
        "message": {"text": finding.detail or finding.title},
        "locations": [{"logicalLocations": [{"fullyQualifiedName": finding.resource or "(execution)",
                                             "kind": "resource"}]}],
        "properties": {"status": finding.status, "layer": finding.layer, "evidence": finding.evidence},
    }
    if finding.remediation:  # SARIF fixes are file edits; an AWS fix is a command, so it is a property
        result["properties"]["remediation"] = finding.remediation
    return result


def render(report: Report) -> str:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for finding in report.findings:
        if finding.check not in index:
            index[finding.check] = len(rules)
            rules.append(_rule(finding))
    run = {
        "tool": {"driver": {"name": "drsdoctor", "version": __version__, "rules": rules}},
        "results": [_result(finding, index[finding.check]) for finding in report.findings],
        "invocations": [{"executionSuccessful": report.counts()[ERROR] == 0,
                         "toolExecutionNotifications": [{"level": "warning", "message": {"text": note}}
                                                        for note in report.notes]}],
        "properties": {"target": report.target, "summary": report.summary_line(),
                       "rootCause": report.root_cause.finding.check if report.root_cause else None},
    }
    return json.dumps({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}, indent=2)
