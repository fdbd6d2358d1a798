"""Templates from files or from GetTemplate: YAML with short-form tags or JSON (diff/cfnyaml.py).

The decoder understands !Ref, !GetAtt, !Sub... rejects duplicate keys and keeps line
numbers, so a bad template is reported as one line naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drsdoctor.errors import InputError
from drsdoctor.inputfile import TEMPLATE_LIMIT, read_bounded

KNOWN_FUNCTIONS = frozenset(
    {
        "Ref",
        "Condition",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::If",
        "Fn::Select",
        "Fn::Split",
        "Fn::GetAZs",
        "Fn::ImportValue",
        "Fn::Base64",
        "Fn::FindInMap",
        "Fn::Cidr",
        "Fn::Equals",
        "Fn::And",
        "Fn::Or",
        "Fn::Not",
        "Fn::Transform",
        "Fn::Length",
        "Fn::ToJsonString",
        "Fn::ForEach",
    }
)


class TemplateError(InputError):
    """A template that cannot be read, decoded or understood; the message names the file and line."""


def load_template_file(path: str | Path) -> dict[str, Any]:
    """Decode and check a template file; raises TemplateError naming the file (and line) on bad input."""
    path = Path(path)
    if not path.exists():
        raise TemplateError(f"{path}: no such file")
    if path.is_dir():
        raise TemplateError(f"{path}: is a directory, not a template")
    text = read_bounded(path, "template", TEMPLATE_LIMIT)  # a regular file of at most 1 MB, as CloudFormation
    return load_template_text(text, str(path))


def load_template_text(text: str | Mapping[str, Any], name: str,
                       last_key_wins: bool = False) -> dict[str, Any]:
    """Decode a template body (GetTemplate returns JSON bodies already decoded) and check its shape."""
    if isinstance(text, str):
        template: Any = _decode(text, name, last_key_wins)
    else:  # a decoded body, or anything else, which check_template refuses
        template = text
    check_template(template, name)
    return dict(template) if not isinstance(template, dict) else template


def load_deployed_template(text: str | Mapping[str, Any], name: str) -> dict[str, Any]:
    """A template CloudFormation already accepted (a GetTemplate body): a key it took twice is read as it
    read it, the last one winning."""
    return load_template_text(text, name, last_key_wins=True)


def _decode(text: str, name: str, last_key_wins: bool) -> Any:
    from drsdoctor.diff.cfnyaml import DecodeError, decode

    try:
        return decode(text, last_key_wins)
    except RecursionError:
        raise TemplateError(f"{name}: nested too deeply to be a template") from None
    except DecodeError as error:
        line = f":{error.line}" if error.line else ""
        raise TemplateError(f"{name}{line}: {error}") from None


def line_of(node: Any) -> int | None:
    """The 1-based line where a decoded node starts, when the decoder kept it."""
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def where(name: str, node: Any) -> str:
    line = line_of(node)
    return f"{name}:{line}" if line else name


def check_template(template: Any, name: str) -> None:
    """A template is a mapping with a Resources mapping of typed resources and only known intrinsics."""
    if not isinstance(template, Mapping):
        raise TemplateError(f"{name}: not a CloudFormation template (expected a mapping at the top)")
    resources = template.get("Resources")
    if not isinstance(resources, Mapping) or not resources:
        raise TemplateError(f"{where(name, template)}: not a CloudFormation template (no Resources section)")
    for section in ("Parameters", "Outputs", "Conditions", "Mappings"):
        if section in template and not isinstance(template[section], (Mapping, type(None))):
            raise TemplateError(f"{where(name, template[section])}: {section} must be a mapping")
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"{where(name, resource)}: resource {logical_id} has no Type")
        properties = resource.get("Properties")
        if properties is not None and not isinstance(properties, Mapping):
            raise TemplateError(
                f"{where(name, resource)}: resource {logical_id} Properties must be a mapping"
            )
    _check_functions(template, name, 0)


def _check_functions(node: Any, name: str, depth: int) -> None:
    if depth > 200:
        raise TemplateError(f"{where(name, node)}: nested too deeply to be a template")
    if isinstance(node, Mapping):
        if len(node) == 1:
            key = next(iter(node))
            if isinstance(key, str) and key.startswith("Fn::") and key not in KNOWN_FUNCTIONS:
                raise TemplateError(f"{where(name, node)}: unknown intrinsic function {key}")
        for value in node.values():
            _check_functions(value, name, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _check_functions(value, name, depth + 1)
