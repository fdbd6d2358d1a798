"""The JSON report (`schema: drsdoctor.report/1`), documented in the README; other formats start here too."""

from __future__ import annotations

import json
from typing import Any

from drsdoctor.checkapi import Finding
from drsdoctor.engine import Report

SCHEMA = "drsdoctor.report/1"


def finding_dict(finding: Finding) -> dict[str, Any]:
    return finding.to_dict()


def report_dict(report: Report) -> dict[str, Any]:
    root = report.root_cause
    return {
        "schema": SCHEMA,
        "target": report.target,
        "collected_at": report.collected_at.isoformat() if report.collected_at else None,
        "root_cause": None if root is None else {
            "check": root.finding.check,
            "resource": root.finding.resource,
            "summary": root.summary,
            "remediation": root.finding.remediation,
            "fix": root.finding.remedy.to_dict() if root.finding.remedy else None,
            "evidence": list(root.finding.evidence),
            "chain": [{"check": f.check, "layer": f.layer, "resource": f.resource, "detail": f.detail}
                      for f in root.chain],
            "also": [{"check": f.check, "resource": f.resource, "detail": f.detail} for f in root.also],
        },
        "plan": [{"step": a.step, "question": a.question, "status": a.status, "answer": a.answer,
                  "checks": a.checks} for a in report.plan],
        "findings": [finding_dict(finding) for finding in report.findings],
        "summary": {**report.counts(), "total": len(report.findings), "text": report.summary_line(),
                    "exit_code": report.exit_code},
        "notes": list(report.notes),
    }


def render(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2)
