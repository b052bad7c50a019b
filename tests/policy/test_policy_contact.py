"""Tests for policy.contact: contact hours, Sundays, public holidays, DST."""

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from policy.config import DEFAULT_POLICY as P
from policy.contact import may_contact, next_contact_window
from policy.errors import InvalidRequest

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "allowed", "reasons"),
    [
        (berlin(2026, 11, 23, 7, 59), False, ("outside_contact_hours",)),  # Monday
        (berlin(2026, 11, 23, 8, 0), True, ("contact_allowed",)),
        (berlin(2026, 11, 23, 19, 59), True, ("contact_allowed",)),
        (berlin(2026, 11, 23, 19, 59, 59), True, ("contact_allowed",)),
        (berlin(2026, 11, 23, 20, 0), False, ("outside_contact_hours",)),
        (berlin(2026, 11, 28, 12, 0), True, ("contact_allowed",)),  # Saturday
        (berlin(2026, 11, 22, 12, 0), False, ("sunday",)),
        (berlin(2026, 11, 22, 22, 0), False, ("sunday", "outside_contact_hours")),
        (berlin(2026, 12, 25, 12, 0), False, ("public_holiday:Christmas Day",)),  # Friday
        (berlin(2026, 12, 26, 12, 0), False, ("public_holiday:Second Day of Christmas",)),
        (berlin(2026, 4, 6, 12, 0), False, ("public_holiday:Easter Monday",)),
        (berlin(2026, 4, 3, 12, 0), False, ("public_holiday:Good Friday",)),
        (berlin(2026, 10, 3, 12, 0), False, ("public_holiday:German Unity Day",)),  # Saturday
        (berlin(2026, 4, 5, 12, 0), False, ("sunday",)),  # Easter Sunday: Brandenburg only
        (
            berlin(2027, 12, 26, 12, 0),
            False,
            ("sunday", "public_holiday:Second Day of Christmas"),
        ),
        (berlin(2026, 12, 24, 12, 0), True, ("contact_allowed",)),  # Christmas Eve: no holiday
        (berlin(2026, 6, 4, 12, 0), True, ("contact_allowed",)),  # Corpus Christi: not national
    ],
)
def test_contact_hours(at: datetime, allowed: bool, reasons: tuple[str, ...]) -> None:
    decision = may_contact(at=at, policy=P)
    assert (decision.allowed, decision.reasons) == (allowed, reasons)
    assert decision.policy_version == P.version and decision.offer is None


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (utc(2026, 1, 12, 6, 59), False),  # 07:59 CET
        (utc(2026, 1, 12, 7, 0), True),  # 08:00 CET
        (utc(2026, 1, 12, 18, 59), True),  # 19:59 CET
        (utc(2026, 1, 12, 19, 0), False),  # 20:00 CET
        (utc(2026, 7, 13, 5, 59), False),  # 07:59 CEST
        (utc(2026, 7, 13, 6, 0), True),  # 08:00 CEST
        (utc(2026, 7, 13, 17, 59), True),  # 19:59 CEST
        (utc(2026, 7, 13, 18, 0), False),  # 20:00 CEST
        (utc(2026, 11, 21, 23, 30), False),  # Saturday in UTC, Sunday 00:30 in Berlin
        (datetime(2026, 7, 13, 2, 0, tzinfo=ZoneInfo("America/New_York")), True),
    ],
)
def test_other_zones_are_converted_to_berlin(at: datetime, allowed: bool) -> None:
    assert may_contact(at=at, policy=P).allowed is allowed


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        # 2026-03-29 (Sunday): clocks go 02:00 -> 03:00; 2026-10-25 (Sunday): 03:00 -> 02:00.
        (utc(2026, 3, 29, 8, 0), False),
        (utc(2026, 3, 28, 18, 59), True),  # Saturday 19:59 CET
        (utc(2026, 3, 28, 19, 0), False),  # Saturday 20:00 CET
        (utc(2026, 3, 30, 5, 59), False),  # Monday 07:59 CEST
        (utc(2026, 3, 30, 6, 0), True),  # Monday 08:00 CEST
        (utc(2026, 10, 24, 17, 59), True),  # Saturday 19:59 CEST
        (utc(2026, 10, 24, 18, 0), False),  # Saturday 20:00 CEST
        (utc(2026, 10, 25, 10, 0), False),
        (utc(2026, 10, 26, 6, 59), False),  # Monday 07:59 CET
        (utc(2026, 10, 26, 7, 0), True),  # Monday 08:00 CET
    ],
)
def test_dst_change_days(at: datetime, allowed: bool) -> None:
    assert may_contact(at=at, policy=P).allowed is allowed


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (berlin(2026, 11, 23, 10, 15), berlin(2026, 11, 23, 10, 15)),  # already open
        (berlin(2026, 11, 23, 6, 0), berlin(2026, 11, 23, 8, 0)),
        (berlin(2026, 11, 23, 20, 0), berlin(2026, 11, 24, 8, 0)),
        (berlin(2026, 11, 28, 21, 0), berlin(2026, 11, 30, 8, 0)),  # skips Sunday
        (berlin(2026, 12, 24, 20, 30), berlin(2026, 12, 28, 8, 0)),  # 25th, 26th, Sunday
        (berlin(2026, 4, 2, 20, 0), berlin(2026, 4, 4, 8, 0)),  # Good Friday
        (berlin(2026, 4, 4, 20, 0), berlin(2026, 4, 7, 8, 0)),  # Easter Sunday and Monday
        (utc(2026, 3, 28, 20, 0), berlin(2026, 3, 30, 8, 0)),  # across spring DST
        (utc(2026, 10, 24, 19, 0), berlin(2026, 10, 26, 8, 0)),  # across autumn DST
    ],
)
def test_next_contact_window(after: datetime, expected: datetime) -> None:
    found = next_contact_window(after=after, policy=P)
    assert found == expected
    assert found.tzinfo is not None and found.utcoffset() == expected.utcoffset()
    assert may_contact(at=found, policy=P).allowed


def test_next_window_after_dst_is_eight_local_not_utc() -> None:
    found = next_contact_window(after=utc(2026, 3, 28, 20, 0), policy=P)
    assert found.astimezone(UTC) == utc(2026, 3, 30, 6, 0)


def test_subdivision_holidays() -> None:
    bavaria = replace(P, contact_hours=replace(P.contact_hours, holiday_subdivision="BY"))
    corpus_christi = berlin(2026, 6, 4, 12, 0)
    assert may_contact(at=corpus_christi, policy=P).allowed
    decision = may_contact(at=corpus_christi, policy=bavaria)
    assert decision.reasons == ("public_holiday:Corpus Christi",)


def test_weekdays_outside_the_policy() -> None:
    weekdays_only = replace(P, contact_hours=replace(P.contact_hours, weekdays=frozenset(range(5))))
    saturday = berlin(2026, 11, 28, 12, 0)
    assert may_contact(at=saturday, policy=weekdays_only).reasons == ("outside_contact_days",)
    assert next_contact_window(after=saturday, policy=weekdays_only) == berlin(2026, 11, 30, 8, 0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        may_contact(at=datetime(2026, 11, 23, 10, 0), policy=P)
    with pytest.raises(InvalidRequest):
        next_contact_window(after=datetime(2026, 11, 23, 10, 0), policy=P)
