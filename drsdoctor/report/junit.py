"""The JUnit XML report: one testcase per finding, so CI dashboards show a diagnosis as a test run."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from drsdoctor.checkapi import ERROR, FAIL, SKIP, WARN
from drsdoctor.engine import Report


def render(report: Report) -> str:
    counts = report.counts()
    suites = ET.Element("testsuites", name="drsdoctor")
    suite = ET.SubElement(suites, "testsuite", {
        "name": f"drsdoctor {report.target}", "tests": str(len(report.findings)),
        "failures": str(counts[FAIL]), "errors": str(counts[ERROR]), "skipped": str(counts[SKIP]),
    })
    if report.collected_at:
        suite.set("timestamp", report.collected_at.isoformat())
    for finding in report.findings:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"drsdoctor.{finding.service or 'check'}.{finding.check}",
            "name": f"{finding.check} {finding.title} [{finding.resource}]",
        })
        body = "\n".join([finding.detail, *finding.evidence, *(
            [f"fix: {finding.remediation}"] if finding.remediation else [])])
        if finding.status == FAIL:
            ET.SubElement(case, "failure", message=finding.detail, type=finding.severity).text = body
        elif finding.status == ERROR:
            ET.SubElement(case, "error", message=finding.detail, type="incomplete").text = body
        elif finding.status == SKIP:
            ET.SubElement(case, "skipped", message=finding.detail)
        elif finding.status == WARN:  # JUnit has no warnings: a passing case that says so
            ET.SubElement(case, "system-out").text = f"WARNING: {body}"
        else:
            ET.SubElement(case, "system-out").text = finding.detail
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
