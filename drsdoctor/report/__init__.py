"""Reports of a diagnosis, one module a format: text (rich), json, markdown, sarif, junit, html.

`render(report, fmt)` is the one entry point; each format's module is imported only when used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drsdoctor.engine import Report

FORMATS = ("text", "json", "markdown", "sarif", "junit", "html")
_MODULES = {"text": "text", "json": "json_report", "markdown": "markdown", "sarif": "sarif", "junit": "junit",
            "html": "html"}


def render(report: Report, fmt: str = "text", color: bool | None = None, long: bool = False,
           width: int | None = None) -> str:
    """The report as text in ``fmt``; ``color`` (text only) defaults to whether colour is wanted on stdout
    and ``width`` to the terminal's (drsdoctor.report.terminal), ``long`` (text only) lists every finding."""
    if fmt not in _MODULES:
        from drsdoctor.errors import InputError

        raise InputError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    from drsdoctor.textsafe import deep

    report = deep(report)  # what AWS, a bundle or a check said: no escape sequence reaches the reader
    module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    if fmt == "text":
        return str(module.render(report, color=color, long=long, width=width))
    return str(module.render(report))
