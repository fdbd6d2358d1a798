"""The template decoder on PyYAML and json alone reads templates as cfn-flip and cfn-lint did, with lines."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from drsdoctor.diff.cfnyaml import DecodeError, decode
from drsdoctor.diff.loader import TemplateError, line_of, load_deployed_template, load_template_text

ROOT = Path(__file__).parents[2]
# the largest templates and the nested ones (cfn-flip decodes in pure Python: 0.5 s a large template)
TEMPLATES = [ROOT / "drsdoctor/reference/template.yaml", ROOT / "examples/templates/current.yaml",
             *sorted(ROOT.glob("tests/diff/nested/**/*.yaml"))]


def plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(value) for value in node]
    return str(node) if isinstance(node, str) else node


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_template_of_the_project_decodes_as_cfn_flip_decodes_it(path: Path) -> None:
    # the test extra keeps cfn-flip to compare with (cfn-lint takes 5 s to import)
    from cfn_tools import load_yaml

    text = path.read_text()
    assert plain(decode(text)) == plain(load_yaml(text))


def test_short_forms_become_the_long_forms() -> None:
    text = ("A: !Ref X\nB: !GetAtt R.Outputs.Name\nC: !GetAtt [R, Arn]\nD: !Sub\n  - ${a}\n  - {a: !Ref Y}\n"
            "E: !If [C, 1, 2]\n")
    assert decode(text) == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Outputs.Name"]},
        "C": {"Fn::GetAtt": ["R", "Arn"]},
        "D": {"Fn::Sub": ["${a}", {"a": {"Ref": "Y"}}]},
        "E": {"Fn::If": ["C", 1, 2]},
    }


def test_marks_name_the_line_in_yaml_and_in_json() -> None:
    yaml_template = decode("Resources:\n  A:\n    Type: T\n    Properties:\n      X: !Ref Y\n")
    assert line_of(yaml_template["Resources"]["A"]) == 3
    assert line_of(yaml_template["Resources"]["A"]["Properties"]["X"]) == 5
    json_template = decode('{\n\t"Resources": {\n\t\t"A": {\n\t\t\t"Type": "T", '
                           '"Properties": {"X": [1e3]}}}}')
    assert line_of(json_template["Resources"]["A"]) == 3
    assert json_template["Resources"]["A"]["Properties"]["X"] == [1000.0]  # JSON's numbers, not YAML 1.1's


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Resources:\n  A:\n    Type: T\n  A:\n    Type: T\n", 2),
        ('{"Resources": {\n  "A": {"Type": "T"},\n  "A": {"Type": "T"}}}', 3),
    ],
)
def test_a_key_given_twice_is_refused_with_its_line_unless_cloudformation_took_it(text: str,
                                                                                  line: int) -> None:
    with pytest.raises(TemplateError, match=rf"^t:{line}: Duplicate found 'A'"):
        load_template_text(text, "t")
    assert load_deployed_template(text, "stack s")["Resources"] == {"A": {"Type": "T"}}


def test_aliases_that_expand_a_template_past_the_bound_are_refused_at_once() -> None:
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    started = time.monotonic()
    with pytest.raises(DecodeError, match="aliases expand"):
        decode("\n".join(laughs))
    assert time.monotonic() - started < 2
    assert decode("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}  # a small alias is fine


@pytest.mark.parametrize(
    ("text", "line"), [("a: b: c", 1), ("~: 1", 1), ("a: 1\n? [1]\n: 2", 2), ('{"a": [}', 1)]
)
def test_what_is_not_a_template_names_its_line(text: str, line: int) -> None:
    with pytest.raises(DecodeError) as refused:
        decode(text)
    assert refused.value.line == line
