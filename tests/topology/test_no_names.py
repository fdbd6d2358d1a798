"""No names: outside drsdoctor/reference/ and drsdoctor/sandbox/, no module names one of the reference's
environment variables, functions, tables or states. The names are read from the reference's own template
and definition, so a name added to the reference is checked without touching this test."""

from __future__ import annotations

import json
import re
from pathlib import Path

from drsdoctor.diff.loader import load_template_file

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "drsdoctor" / "reference" / "template.yaml"
ALLOWED = ("drsdoctor/reference/", "drsdoctor/sandbox/")


def _sub_text(value: object) -> str:
    """The text of a plain string or a !Sub (short or long form) as the template writes it."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        inner = value["Fn::Sub"]
        return str(inner[0] if isinstance(inner, list) else inner)
    return value if isinstance(value, str) else ""


def _as_pattern(text: str) -> re.Pattern[str]:
    """A deployed name: each ${Parameter} stands for any name part."""
    pieces = re.split(r"\$\{[^}]+\}", text)
    return re.compile("[A-Za-z0-9-]*".join(re.escape(piece) for piece in pieces))


def reference_names() -> dict[str, list[re.Pattern[str]]]:
    template = load_template_file(TEMPLATE)
    resources = template["Resources"]
    variables: set[str] = set()
    functions, tables, states = [], [], set()
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function":
            variables |= set(properties.get("Environment", {}).get("Variables", {}))
            functions.append(_sub_text(properties["FunctionName"]))
        elif resource["Type"] == "AWS::DynamoDB::Table":
            tables.append(_sub_text(properties["TableName"]))
            for index in properties.get("GlobalSecondaryIndexes", []):
                tables.append(index["IndexName"])
        elif resource["Type"] == "AWS::StepFunctions::StateMachine":
            definition = re.sub(r"\$\{[^}]+\}", "x", _sub_text(properties["DefinitionString"]))
            states |= set(json.loads(definition)["States"])
    word = lambda name: re.compile(rf"\b{re.escape(name)}\b")  # noqa: E731
    return {"environment variable": [word(v) for v in sorted(variables)],
            "function": [_as_pattern(f) for f in functions], "table": [_as_pattern(t) for t in tables],
            "state": [word(s) for s in sorted(states)]}


def test_the_reference_names_are_read_from_its_template() -> None:
    names = reference_names()
    assert len(names["environment variable"]) >= 5 and len(names["function"]) == 3
    assert len(names["table"]) >= 3 and len(names["state"]) >= 10
    assert any(p.search("drs-orchestrator-prod-execution-history") for p in names["table"])


def test_no_module_outside_the_reference_and_sandbox_names_the_reference() -> None:
    names = reference_names()
    found = []
    for path in sorted([*(ROOT / "drsdoctor").rglob("*.py"), *(ROOT / "checks").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(ALLOWED):
            continue
        text = path.read_text()
        for kind, patterns in names.items():
            for pattern in patterns:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{relative}:{line} names the reference's {kind} {match.group(0)}")
    assert not found, "\n".join(found)
