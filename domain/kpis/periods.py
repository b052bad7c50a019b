"""The KPIs' periods: whole days in a time zone, and the buckets a series splits them into."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, literal

from domain.kpis.errors import BadPeriod

# Dates outside these cannot be turned into instants in every time zone (year 1, 9999).
EARLIEST: Final = date(1900, 1, 1)
LATEST: Final = date(9998, 12, 31)


@dataclass(frozen=True)
class Period:
    """Whole days `start`..`end` (both included) in a time zone."""

    start: date
    end: date
    timezone: str

    def bounds(self) -> tuple[datetime, datetime]:
        """Return the period as instants: `start` 00:00 and the midnight after `end`."""
        zone = ZoneInfo(self.timezone)
        first = datetime.combine(self.start, time.min, tzinfo=zone)
        after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)
        return first, after


def make_period(*, start: date, end: date, timezone: str) -> Period:
    """Build a period, refusing an empty one or dates out of range."""
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise BadPeriod(f"{name}: {day.isoformat()} is out of range ({EARLIEST}..{LATEST})")
    if start > end:
        raise BadPeriod(f"from ({start.isoformat()}) is after to ({end.isoformat()})")
    return Period(start=start, end=end, timezone=timezone)


def bucket_index(parts: Sequence[Period]) -> Callable[[Any], ColumnElement[Any]]:
    """Return a function giving a timestamp's bucket: 0 for the first part, 1 for the next…

    The parts are consecutive; a timestamp inside the whole period falls into exactly one.
    """
    afters = [part.bounds()[1] for part in parts]

    def index(column: Any) -> ColumnElement[Any]:
        whens = [(column < after, literal(n)) for n, after in enumerate(afters[:-1])]
        return case(*whens, else_=literal(len(afters) - 1)) if whens else literal(0)

    return index
