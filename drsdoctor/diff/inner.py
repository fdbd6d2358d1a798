"""The smallest difference inside two values, as a person reads it.

A key added inside a long `Parameters` object reads as `Payload.waveId added: "$.wave.id"`, a few words
changed inside a long string as `...status [-Completed-] {+COMPLETED+} then...`: never the first hundred
characters of each side, where the change is usually not.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

WORD = re.compile(r"\s*\S+|\s+")  # a word with the space before it
CONTEXT = 3  # words kept either side of a change


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def short(value: Any, limit: int = 70) -> str:
    if value is None:
        return "nothing"
    text = text_of(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_document(value: Any) -> Any:
    """A JSON object or array written as text (a rule target's Input, a policy string) compares as one."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def inner_changes(before: Any, after: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, before, after) of each smallest differing part; a missing side is None."""
    if before == after:
        return
    before, after = _as_document(before), _as_document(after)
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            yield from inner_changes(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
    elif isinstance(before, list) and isinstance(after, list):
        yield from _list_changes(before, after, path)
    else:
        yield path, before, after


def _list_changes(before: list[Any], after: list[Any], path: str) -> Iterator[tuple[str, Any, Any]]:
    # items are matched as a sequence: one item inserted is one item added, not every later one changed
    old, new = [text_of(v) for v in before], [text_of(v) for v in after]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                yield from inner_changes(before[i1 + offset], after[j1 + offset], f"{path}[{j1 + offset}]")
            continue
        for index in range(i1, i2):
            yield f"{path}[{index}]", before[index], None
        for index in range(j1, j2):
            yield f"{path}[{index}]", None, after[index]


def words_changed(before: str, after: str, limit: int = 160) -> str:
    """The words that differ between two texts, with a little context: `...a [-b-]{+c+} d...`."""
    old, new = WORD.findall(before), WORD.findall(after)
    runs: list[list[int]] = []  # [i1, i2, j1, j2] of each change; changes one word apart read as one
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if runs and i1 - runs[-1][1] <= 1:
            runs[-1][1], runs[-1][3] = i2, j2
        else:
            runs.append([i1, i2, j1, j2])
    hunks = []
    for i1, i2, j1, j2 in runs:
        lead = ("..." if i1 > CONTEXT else "") + "".join(old[max(i1 - CONTEXT, 0) : i1]).strip()
        trail = "".join(old[i2 : i2 + CONTEXT]).strip() + ("..." if i2 + CONTEXT < len(old) else "")
        removed = f"[-{''.join(old[i1:i2]).strip()}-]" if i2 > i1 else ""
        added = f"{{+{''.join(new[j1:j2]).strip()}+}}" if j2 > j1 else ""
        hunks.append(" ".join(part for part in (lead, removed + added, trail) if part))
    text = " ".join(hunks)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(before: Any, after: Any, limit: int = 70, most: int = 3) -> str:
    """What changed from `before` to `after`, in at most a line: the inner parts when the values are long."""
    if len(short(before, 10_000)) <= limit and len(short(after, 10_000)) <= limit:
        return f"{short(before, limit)} -> {short(after, limit)}"
    if isinstance(before, str) and isinstance(after, str) and _as_document(before) is before:
        return words_changed(before, after)
    parts = []
    found = list(inner_changes(before, after))
    for path, old, new in found[:most]:
        where = path or "value"
        if old is None:
            parts.append(f"{where} added: {short(new, 50)}")
        elif new is None:
            parts.append(f"{where} removed (was {short(old, 50)})")
        elif isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 50:
            parts.append(f"{where}: {words_changed(old, new, 100)}")
        else:
            parts.append(f"{where}: {short(old, 40)} -> {short(new, 40)}")
    if len(found) > most:
        parts.append(f"and {len(found) - most} more")
    return "; ".join(parts) if parts else f"{short(before, limit)} -> {short(after, limit)}"


def lines(before: Any, after: Any, most: int = 8) -> list[str]:
    """The inner differences one a line, for the text report under a change."""
    found = list(inner_changes(before, after))
    out = []
    for path, old, new in found[:most]:
        where = path or "value"
        if old is None:
            out.append(f"+ {where}: {short(new, 200)}")
        elif new is None:
            out.append(f"- {where}: {short(old, 200)}")
        elif isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 60:
            out.append(f"~ {where}: {words_changed(old, new, 240)}")
        else:
            out.append(f"~ {where}: {short(old, 100)} -> {short(new, 100)}")
    if len(found) > most:
        out.append(f"  and {len(found) - most} more (--long shows both values whole)")
    return out
