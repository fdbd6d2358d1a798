"""What each argument of diff-stacks names: a template file, `reference`, or a deployed stack (name, ARN)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from drsdoctor.diff.loader import TemplateError, load_template_file, load_template_text
from drsdoctor.diff.sides import Source, source_from_template
from drsdoctor.errors import InputError

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".txt")
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
STACK_ARN = re.compile(
    r"^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack/[A-Za-z][A-Za-z0-9-]*/[\w-]+$"
)


def parse_assignments(pairs: tuple[str, ...] | list[str], option: str) -> dict[str, str]:
    """K=V pairs from --parameters-a/--parameters-b."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{option} expects KEY=VALUE, not {pair!r}")
        values[key.strip()] = value
    return values


def kind_of_argument(argument: str) -> str:
    """file, reference or stack: an existing path or a template-looking name is a file."""
    if argument == "reference":
        return "reference"
    if (
        Path(argument).exists()
        or argument.lower().endswith(TEMPLATE_SUFFIXES)
        or ("/" in argument and not argument.startswith("arn:"))
    ):
        return "file"
    if STACK_NAME.match(argument) or STACK_ARN.match(argument):
        return "stack"
    raise InputError(f"{argument!r} is neither a template file, 'reference', nor a stack name or ARN")


def file_source(argument: str, given: Mapping[str, str], template_root: Path | None = None) -> Source:
    path = Path(argument)
    template = load_template_file(path)
    source = source_from_template(template, argument, "file", given, base_dir=path.parent)
    source.template_root = template_root
    return source


def reference_source(given: Mapping[str, Any], other: Source | None) -> Source:
    """The reference orchestrator with the other side's values for the parameters it declares."""
    from drsdoctor import reference

    template = load_template_text(reference.template_text(), "reference")
    declared = template.get("Parameters") or {}
    values: dict[str, Any] = dict(reference.DEFAULT_PARAMETERS)
    if other is not None:
        values.update({k: v for k, v in other.parameters.items() if k in declared})
    values.update(given)
    values = {k: v for k, v in values.items() if k in declared}
    source = source_from_template(template, "reference", "reference", values)
    if other is not None and other.deployment is not None:
        source.borrowed = other.deployment
    return source


def load_sources(
    first: str,
    second: str,
    given_a: Mapping[str, str],
    given_b: Mapping[str, str],
    stack_loader: Callable[[str, Mapping[str, str]], Source] | None,
    template_root: Path | None = None,
) -> tuple[Source, Source]:
    """Both sides; `reference` takes its values from the other side, so it is built last.

    `template_root` is where a template file's nested templates are also looked for."""
    if template_root is not None and not template_root.is_dir():
        raise InputError(f"--template-root {template_root}: not a directory")
    kinds = (kind_of_argument(first), kind_of_argument(second))
    built: list[Source | None] = [None, None]
    for index, (argument, given) in enumerate(((first, given_a), (second, given_b))):
        if kinds[index] == "file":
            built[index] = file_source(argument, given, template_root)
        elif kinds[index] == "stack":
            if stack_loader is None:
                raise InputError(f"{argument}: reading a deployed stack needs AWS access")
            built[index] = stack_loader(argument, given)
    for index, given in enumerate((given_a, given_b)):
        if kinds[index] == "reference":
            built[index] = reference_source(given, built[1 - index])
    a, b = built
    if a is None or b is None:  # pragma: no cover - every kind is handled above
        raise TemplateError("could not load both sides")
    return a, b
