"""What the reader's terminal allows: colour or not, and how wide a line may be.

One answer for every command: colour only on a terminal, never when `NO_COLOR` is set (no-color.org: set
and not empty), `--no-color` was given or TERM is `dumb`; the width is `COLUMNS` where it is set, else the
terminal's own, else 100 (a file, a pipe, a ticket).
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

WIDTH = 100  # not on a terminal and no COLUMNS: wide enough for a ticket, narrow enough for a review
NARROWEST = 40  # below this a hanging indent leaves no room for words
NO_COLOR_FLAG = "drsdoctor.no_color"  # click's shared context meta: set by --no-color (commands/options.py)


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def no_color_asked() -> bool:
    """NO_COLOR in the environment, or --no-color on the command line."""
    if os.environ.get("NO_COLOR"):
        return True
    import click

    context = click.get_current_context(silent=True)
    return bool(context is not None and context.meta.get(NO_COLOR_FLAG))


def color_wanted(stream: TextIO | None = None) -> bool:
    """Whether to colour what is written to `stream` (stdout by default)."""
    if no_color_asked() or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream if stream is not None else sys.stdout)


def width(stream: TextIO | None = None) -> int:
    """How many columns a line of the report may take."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), NARROWEST)
    if _is_terminal(stream if stream is not None else sys.stdout):
        return max(shutil.get_terminal_size((WIDTH, 24)).columns, NARROWEST)
    return WIDTH
