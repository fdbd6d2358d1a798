"""Text from AWS, a bundle, a template or a check, made safe to write to a terminal or a file.

A log line, an environment value or an error message can hold escape sequences that clear the screen,
retitle the window or hide a link (OSC 8), and characters XML cannot hold. Each control character
(C0 but tab and newline, DEL, C1), each bidirectional override and each code point XML refuses is shown
escaped instead (ESC as `\\x1b`), so the reader sees what the data held and the output stays well-formed.
Applied where results are rendered or written: report.render, report.fleet.render, diff-stacks,
the command line's error lines and `-v`'s call log, and `emit` as the last guard before writing.
"""

from __future__ import annotations

import re
from typing import Any

from drsdoctor.secrets import Scrubber

# C0 controls but \t and \n; DEL and C1; bidi marks, embeddings, overrides and isolates; line and paragraph
# separators; lone surrogates and the two non-characters XML 1.0 forbids
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069"
                    r"\ud800-\udfff\ufffe\uffff]")
# what rich writes to colour a terminal: SGR only (no cursor moves, no titles, no links)
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every control character and escape sequence shown escaped (`\\x1b[2J`)."""
    return UNSAFE.sub(_escaped, text) if UNSAFE.search(text) else text


def safe_output(text: str) -> str:
    """A rendered result as it may be written: colour codes (SGR) kept, every other control escaped."""
    if not UNSAFE.search(text):
        return text
    kept = _SGR.split(text)
    colours = _SGR.findall(text)
    parts = [safe(kept[0])]
    for colour, rest in zip(colours, kept[1:], strict=True):
        parts += [colour, safe(rest)]
    return "".join(parts)


def plain(text: str) -> str:
    """A rendered result without its colour codes: for a file, a pipe, or NO_COLOR."""
    return _SGR.sub("", text)


class _Escaper(Scrubber):
    """Scrubber's walk over strings, lists, dicts and dataclasses, escaping instead of redacting."""

    def text(self, text: str) -> str:
        return safe(text)


_ESCAPER = _Escaper()


def deep(value: Any) -> Any:
    """A copy of ``value`` (a report, a diff, a fleet) with every string in it made safe."""
    return _ESCAPER.deep(value)
