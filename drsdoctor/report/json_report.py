"""The JSON report (`schema: drsdoctor.report/1`), documented in the README; other formats start here too."""

from __future__ import annotations

import json
from typing import Any

from drsdoctor.checkapi import Finding
from drsdoctor.engine import Report
from drsdoctor.report.timeline import Timeline

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
        "timeline": timeline_dict(report.timeline),
    }


def timeline_dict(timeline: Timeline | None) -> dict[str, Any] | None:
    """The timeline's lanes (what each is, its status, one line about it) and where progress stopped; the
    events themselves are drawn by --format html."""
    if timeline is None:
        return None
    return {"start": timeline.start.isoformat(), "now": timeline.now.isoformat(),
            "stop": timeline.stop.isoformat() if timeline.stop else None, "stop_label": timeline.stop_label,
            "lanes": [{"kind": lane.kind, "title": lane.title, "status": lane.status, "note": lane.note,
                       "rows": [row.label for row in lane.rows]} for lane in timeline.lanes]}


def render(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2)
