"""When EventBridge Scheduler cron expressions fire, and how long an off/on switch keeps an
environment off.

Written here, not taken from a cron library: EventBridge's dialect has six fields (a year
field), `?` in day-of-month or day-of-week, and day-of-week numbered 1-7 from Sunday, where
the libraries on PyPI (croniter and its kin) read five-field Unix cron with 0 for Sunday.
Supported: `*`, `?`, numbers, names (JAN-DEC, SUN-SAT), ranges, lists and `/` increments;
`L`, `W` and `#` (last, weekday, nth) are refused in one line (the loader accepts them, and
the platform's schedules use none). Times are wall-clock times in the schedule's time zone,
daylight saving included, as the scheduler reads them (`schedule_expression_timezone`); a
wall-clock time a spring-forward skips does not fire, and one a fall-back repeats fires once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from surgepress.errors import UserError

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))


def _values(text: str, low: int, high: int, names: list[str], where: str) -> set[int]:
    if re.search(r"[LW#]", text):
        raise UserError(f"{where}: {text!r} (last, weekday, nth) cannot be evaluated here; use plain days")
    out: set[int] = set()
    for part in text.split(","):
        base, slash, step = part.partition("/")
        try:
            increment = int(step) if slash else 1
            if base in ("*", "?"):
                first, last = low, high
            else:
                ends = [names.index(e) + low if e in names else int(e) for e in base.split("-")]
                first, last = ends[0], ends[-1] if len(ends) > 1 else (high if slash else ends[0])
        except ValueError:
            raise UserError(f"{where}: {part!r} is not a number, a name, a range or an increment") from None
        if increment < 1 or len(base.split("-")) > 2:
            raise UserError(f"{where}: {part!r} is not a range with a positive increment")
        if first > last:
            raise UserError(f"{where}: {part!r} wraps around; write it as two ranges (e.g. 22-23,0-2)")
        out.update(range(first, last + 1, increment))
    return out


@dataclass(frozen=True)
class Cron:
    minutes: set[int]
    hours: set[int]
    days: set[int] | None
    """Days of the month, or None for `?` (any)."""
    months: set[int]
    weekdays: set[int] | None
    """1 (Sunday) to 7, or None for `?`."""
    years: set[int]

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = re.fullmatch(r"cron\(([^()]*)\)", expression.strip())
        fields = match.group(1).split() if match else []
        if len(fields) != 6:
            raise UserError(f"{expression!r}: not a six-field EventBridge cron() expression")
        names: tuple[list[str], ...] = ([], [], [], MONTHS, DAYS, [])
        sets = [_values(f, lo, hi, n, expression) for f, (lo, hi), n in zip(fields, _BOUNDS, names, strict=True)]
        return cls(
            sets[0],
            sets[1],
            None if fields[2] == "?" else sets[2],
            sets[3],
            None if fields[4] == "?" else sets[4],
            sets[5],
        )

    def fires_on(self, day: date) -> bool:
        weekday = day.isoweekday() % 7 + 1  # Sunday 1 ... Saturday 7
        return (
            day.year in self.years
            and day.month in self.months
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )


def fire_times(expression: str, timezone: str, start: date, end: date) -> list[datetime]:
    """Every time (in UTC) the schedule fires on the days from `start` up to `end`."""
    cron, zone = Cron.parse(expression), ZoneInfo(timezone)
    out = []
    day = start
    while day < end:
        if cron.fires_on(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    there = local.astimezone(UTC)
                    if there.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):  # not skipped
                        out.append(there)
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class OffTime:
    off_hours: float
    total_hours: float
    switches: int
    """How many times it went off over the window."""

    @property
    def fraction(self) -> float:
        return self.off_hours / self.total_hours


def off_time(off: str, on: str, timezone: str, year: int) -> OffTime:
    """How long an environment switched off by `off` and on by `on` is off over `year` (it starts
    the year in the state the last switch of the year before left it in)."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    window = (datetime(year, 1, 1, tzinfo=ZoneInfo(timezone)), datetime(year + 1, 1, 1, tzinfo=ZoneInfo(timezone)))
    begin, finish = (w.astimezone(UTC) for w in window)
    events = sorted(
        [(t, "off") for t in fire_times(off, timezone, start - timedelta(days=366), end)]
        + [(t, "on") for t in fire_times(on, timezone, start - timedelta(days=366), end)]
    )
    before = [state for t, state in events if t < begin]
    state, since, off_s, switches = (before[-1] if before else "on"), begin, 0.0, 0
    for t, action in events:
        if t < begin or action == state:
            continue
        if state == "off":
            off_s += (t - since).total_seconds()
        else:
            switches += 1
        state, since = action, t
    if state == "off":
        off_s += (finish - since).total_seconds()
    return OffTime(off_s / 3600, (finish - begin).total_seconds() / 3600, switches)
