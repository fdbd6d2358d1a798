"""EventBridge `cron(...)` schedule expressions: does a schedule fire in a given UTC minute?

`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, as EventBridge documents it: `*`, `?`, lists
(`,`), ranges (`-`), increments (`/`), month names JAN-DEC, day names SUN-SAT (1-7, SUN is 1), `L` (the last
day of the month; `5L` the last Thursday), `W` (`15W`, the weekday nearest the 15th, within the month) and `#`
(`6#3`, the third Friday). One of day-of-month and day-of-week must be `?`.
"""

from __future__ import annotations

import calendar
import datetime
import re

_CRON = re.compile(r"cron\((.*)\)")
_MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199)]


class CronError(ValueError):
    """The expression is not a valid EventBridge cron expression."""


def is_cron(expression: str | None) -> bool:
    return _CRON.fullmatch((expression or "").strip()) is not None


def fires_at(expression: str, minute: datetime.datetime) -> bool:
    """Whether `cron(...)` fires in the UTC minute that holds `minute`."""
    match = _CRON.fullmatch(expression.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        raise CronError(f"{expression!r}: a cron expression has six fields")
    when = minute.astimezone(datetime.timezone.utc)
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronError(f"{expression!r}: one of day-of-month and day-of-week must be '?'")
    simple = ((minutes, when.minute, 0), (hours, when.hour, 1), (month, when.month, 3), (year, when.year, 5))
    if not all(_in(field, value, index) for field, value, index in simple):
        return False
    if dom != "?":
        return _day_of_month(dom, when)
    return _day_of_week(dow, when)


def _number(text: str, index: int) -> int:
    names = _MONTHS if index == 3 else _DAYS if index == 4 else {}
    value = names.get(text.upper()) if text.upper() in names else None
    if value is None:
        if not text.isdigit():
            raise CronError(f"{text!r} is not a value of this cron field")
        value = int(text)
    low, high = _BOUNDS[index]
    if not low <= value <= high:
        raise CronError(f"{value} is out of range {low}-{high}")
    return value


def _in(field: str, value: int, index: int) -> bool:
    """A field of values, ranges, increments and `*`."""
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            low, high = _BOUNDS[index]
        elif "-" in base:
            start, end = base.split("-", 1)
            low, high = _number(start, index), _number(end, index)
        else:
            low = _number(base, index)
            high = _BOUNDS[index][1] if step_text else low
        if low <= value <= high and (value - low) % step == 0:
            return True
    return False


def _weekday(when: datetime.datetime) -> int:
    """EventBridge numbers days SUN=1 .. SAT=7."""
    return (when.weekday() + 1) % 7 + 1


def _day_of_month(field: str, when: datetime.datetime) -> bool:
    last = calendar.monthrange(when.year, when.month)[1]
    if field == "L":
        return when.day == last
    if field.endswith("W"):
        target = min(_number(field[:-1], 2), last)
        day = datetime.date(when.year, when.month, target)
        if day.weekday() == 5:  # Saturday: the Friday before, or the Monday after on the 1st
            target = target - 1 if target > 1 else target + 2
        elif day.weekday() == 6:  # Sunday: the Monday after, or the Friday before on the last day
            target = target + 1 if target < last else target - 2
        return when.day == target
    return _in(field, when.day, 2)


def _day_of_week(field: str, when: datetime.datetime) -> bool:
    weekday = _weekday(when)
    if field.endswith("L") and field != "L":
        last = calendar.monthrange(when.year, when.month)[1]
        return weekday == _number(field[:-1], 4) and when.day + 7 > last
    if field == "L":
        return weekday == 7
    if "#" in field:
        day, nth = field.split("#", 1)
        return weekday == _number(day, 4) and (when.day - 1) // 7 + 1 == int(nth)
    return _in(field, weekday, 4)
