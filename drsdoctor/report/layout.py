"""Lines for a terminal of a given width: prose wrapped with a hanging indent, commands never wrapped.

A paragraph is wrapped at the width, its continuation lines indented under its text, so a long detail
reads as one item. A command stands on a line of its own, whole, however wide, so it can be pasted as it
is (the one thing allowed past the width). Styles are rich's, rendered only when colour is on.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from rich.color import ColorSystem
from rich.style import Style

Segment = tuple[str, str]  # text and its rich style ("" for none)

# What an operator pastes into a shell: the AWS CLI, drsdoctor itself, or a line written as a prompt.
_COMMAND = re.compile(r"^(\$ )?(aws|drsdoctor|cat|jq|python3?)\s+\S")
ELLIPSIS = "…"


def is_command(text: str) -> bool:
    """Whether `text` is a shell command (printed whole, on its own line)."""
    return bool(_COMMAND.match(text.strip()))


def is_command_line(line: str) -> bool:
    """Whether a printed line is a command standing on its own (what may be wider than the terminal)."""
    return is_command(line)


class _Wrapper(textwrap.TextWrapper):
    """textwrap's, but a word too long for a line (an ARN, a log line) breaks after a `:` or `/` where it
    can, not anywhere."""

    def _split(self, text: str) -> list[str]:
        room = self.width - max(len(self.initial_indent), len(self.subsequent_indent))
        chunks: list[str] = []
        for chunk in super()._split(text):
            long_word = len(chunk) > room
            chunks += [part for part in re.split(r"(?<=[:/,])", chunk) if part] if long_word else [chunk]
        return chunks


class Lines:
    """The report's lines as they are written: wrapped to `width`, coloured when `color`."""

    def __init__(self, width: int, color: bool) -> None:
        self.width, self.color = width, color
        self.lines: list[str] = []

    def styled(self, text: str, style: str) -> str:
        if not (self.color and style and text):
            return text
        return Style.parse(style).render(text, color_system=ColorSystem.STANDARD)

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def line(self, *segments: Segment) -> None:
        """One line as it is, not wrapped (a heading, a rule)."""
        self.lines.append("".join(self.styled(text, style) for text, style in segments).rstrip())

    def para(self, head: Sequence[Segment], body: str = "", style: str = "", indent: int = 0,
             hang: int | None = None, max_lines: int | None = None) -> None:
        """`head` (styled, kept on the first line) then `body` wrapped: the first line starts at `indent`,
        the others at `hang` (under the body by default). At most `max_lines`, the last ending in …"""
        lead = " " * indent + "".join(text for text, _ in head)
        hang = len(lead) if hang is None else hang
        hang = min(hang, self.width // 2)  # a deep indent on a narrow terminal: the words need the room
        wrapper = _Wrapper(width=self.width, initial_indent=" " * len(lead),
                                       subsequent_indent=" " * hang, break_long_words=True,
                                       break_on_hyphens=False, max_lines=max_lines,
                                       placeholder=" " + ELLIPSIS)
        wrapped = wrapper.wrap(" ".join(body.split())) if body.strip() else [" " * len(lead)]
        first = " " * indent + "".join(self.styled(text, style_) for text, style_ in head)
        self.lines.append((first + self.styled(wrapped[0][len(lead):], style)).rstrip())
        for rest in wrapped[1:]:
            self.lines.append(" " * hang + self.styled(rest[hang:], style))

    def one_line(self, head: Sequence[Segment], body: str, style: str = "", indent: int = 0) -> None:
        """`head` and `body` cut to one line of the width, ending in … where something was left out."""
        lead = indent + sum(len(text) for text, _ in head)
        room = max(self.width - lead, 1)
        body = " ".join(body.split())
        if len(body) > room:
            body = body[:room - 1].rstrip() + ELLIPSIS
        self.line((" " * indent, ""), *head, (body, style))

    def command(self, text: str, indent: int = 4, style: str = "") -> None:
        """A command on its own line, whole: never wrapped, never cut."""
        self.lines.append(" " * indent + self.styled(text.strip(), style))

    def fix(self, remediation: str, indent: int = 4, style: str = "", max_lines: int | None = None) -> None:
        """A remediation: each command on its own line, whole; the prose around them wrapped."""
        for part in remediation.splitlines():
            if not part.strip():
                continue
            if is_command(part):
                self.command(part, indent, style)
            else:
                self.para([], part, style, indent=indent, max_lines=max_lines)

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"
