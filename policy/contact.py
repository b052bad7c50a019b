"""When outbound messages may go out: contact days, hours and public holidays."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from policy import reasons as r
from policy.config import ContactHours, CreditorPolicy
from policy.decisions import Decision
from policy.errors import InvalidRequest, PolicyError

SUNDAY = 6
# Holiday names are read in English whatever the machine's locale, so codes are stable.
HOLIDAY_LANGUAGE = "en_US"
_SEARCH_DAYS = 366


def may_contact(*, at: datetime, policy: CreditorPolicy) -> Decision:
    """Decide whether an outbound message may be sent at `at` (timezone-aware)."""
    reasons = _blocking_reasons(at, policy.contact_hours)
    return Decision(not reasons, None, reasons or (r.CONTACT_ALLOWED,), policy.version)


def next_contact_window(*, after: datetime, policy: CreditorPolicy) -> datetime:
    """Return the earliest moment at or after `after` when contact is allowed (policy zone)."""
    hours = policy.contact_hours
    zone = ZoneInfo(hours.timezone)
    local = _localise(after, hours)
    for offset in range(_SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        if _day_reasons(day, hours):
            continue
        opens = datetime.combine(day, hours.start, tzinfo=zone)
        closes = datetime.combine(day, hours.end, tzinfo=zone)
        candidate = max(opens, local)
        if candidate < closes:
            return candidate
    raise PolicyError(f"no contact window within {_SEARCH_DAYS} days of {after.isoformat()}")


def public_holiday(day: date, hours: ContactHours) -> str | None:
    """Return the public holiday's name on that day, or None."""
    return _holidays(hours.holiday_country, hours.holiday_subdivision, day.year).get(day)


def _blocking_reasons(at: datetime, hours: ContactHours) -> tuple[str, ...]:
    """List every reason that forbids contact at that moment."""
    local = _localise(at, hours)
    reasons = list(_day_reasons(local.date(), hours))
    if not hours.start <= local.time().replace(tzinfo=None) < hours.end:
        reasons.append(r.OUTSIDE_CONTACT_HOURS)
    return tuple(reasons)


def _day_reasons(day: date, hours: ContactHours) -> tuple[str, ...]:
    """List the reasons that forbid contact on the whole day."""
    reasons: list[str] = []
    if day.weekday() == SUNDAY:
        reasons.append(r.SUNDAY)
    elif day.weekday() not in hours.weekdays:
        reasons.append(r.OUTSIDE_CONTACT_DAYS)
    name = public_holiday(day, hours)
    if name is not None:
        reasons.append(r.PUBLIC_HOLIDAY_PREFIX + name)
    return tuple(reasons)


def _localise(at: datetime, hours: ContactHours) -> datetime:
    """Convert an aware datetime to the policy's time zone; refuse naive ones."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidRequest("contact times must be timezone-aware")
    return at.astimezone(ZoneInfo(hours.timezone))


@lru_cache(maxsize=64)
def _holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    """Return one year's public holidays by date (cached: they do not change)."""
    calendar = holidays.country_holidays(
        country, subdiv=subdivision, years=year, language=HOLIDAY_LANGUAGE
    )
    return MappingProxyType(dict(calendar.items()))
