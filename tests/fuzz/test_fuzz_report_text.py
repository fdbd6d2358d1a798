"""Fuzzing the reports with hostile text: whatever a finding says, no format writes a control character or
an escape sequence raw, JUnit is well-formed XML, SARIF is valid JSON of the 2.1.0 schema, and a markdown
table keeps its columns."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from drsdoctor.checkapi import CRITICAL, ERROR, FAIL, PASS, Finding
from drsdoctor.engine import Report, RootCause
from drsdoctor.report import render
from drsdoctor.textsafe import UNSAFE, safe, safe_output

SCHEMA = json.loads((Path(__file__).parents[1] / "report" / "sarif-schema-2.1.0.json").read_text())
# every kind of character, with the ones that harm weighted up: ESC sequences, C1, bidi, pipes, backticks
HOSTILE = st.text(st.sampled_from(["\x1b", "[", "]", "8", ";", "\x07", "\x9b", "\x9d", "\r", "\n", "\x00",
                                   "\u202e", "\ud800", "\ufffe", "|", "`", "<", "&", "a", " "])
                  | st.characters(), max_size=40)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\ud800-\udfff\ufffe\uffff]")


def report(detail: str, resource: str, evidence: str) -> Report:
    cause = Finding(check="ZZF001", status=FAIL, resource=resource, detail=detail, evidence=[evidence],
                    remediation=evidence, severity=CRITICAL, title=detail, service="lambda", layer="cause")
    others = [Finding(check="ZZF002", status=ERROR, resource=evidence, detail=resource, severity=CRITICAL,
                      title="t", service="iam", layer="cause"),
              Finding(check="ZZF003", status=PASS, resource="r", detail=detail, severity=CRITICAL, title="t",
                      service="iam", layer="cause")]
    return Report(target=resource, findings=[cause, *others], root_cause=RootCause(cause, []), notes=[detail])


@settings(max_examples=30, deadline=None)
@given(HOSTILE, HOSTILE, HOSTILE)
def test_no_format_writes_hostile_text_raw(detail: str, resource: str, evidence: str) -> None:
    hostile = report(detail, resource, evidence)
    for fmt in ("text", "json", "markdown", "sarif", "junit"):
        out = safe_output(render(hostile, fmt, color=False))
        assert RAW.findall(out) == [], fmt
    ET.fromstring(render(hostile, "junit"))
    sarif = json.loads(render(hostile, "sarif"))
    jsonschema.Draft4Validator(SCHEMA).validate(sarif)
    assert not any(RAW.search(text) for text in re.findall(r'"((?:[^"\\]|\\.)*)"', json.dumps(sarif)))
    rows = [line for line in render(hostile, "markdown").splitlines() if line.startswith("| ")]
    for row in rows:
        assert len(re.split(r"(?<!\\)\|", re.sub(r"(`+) .*? \1|(`+)[^`]*?\2", "code", row))) in (5, 6), row


@given(st.text())
def test_safe_text_is_safe_and_stays_as_it_is(text: str) -> None:
    shown = safe(text)
    assert UNSAFE.search(shown) is None
    assert safe(shown) == shown
    if UNSAFE.search(text) is None:
        assert shown == text  # ordinary text, accents and emoji included, is never touched


def test_a_coloured_terminal_keeps_its_colours_and_loses_the_data_s_escapes() -> None:
    coloured = render(report("\x1b]0;title\x07 \x1b[2J", "r", "e"), "text", color=True)
    assert "\x1b[" in coloured  # rich's own colours
    assert "\x1b]" not in coloured and "\x1b[2J" not in coloured and "\\x1b]0;title\\x07" in coloured
    assert safe_output(coloured) == coloured
