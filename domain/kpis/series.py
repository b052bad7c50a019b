"""KPIs over time (one slice per day, week or month) and by channel, language and creditor.

A slice holds the headline numbers of domain/kpis/service.py for a narrower question,
each computed exactly as `GET /api/kpis` computes it:

* a **bucket** of the series is the sub-period it covers (whole days in the service's
  time zone, clipped to the requested period): its numbers are those of
  `GET /api/kpis?from=<bucket from>&to=<bucket to>` under the same filters. Promises,
  amounts and handoffs of the buckets add up to the period's; conversations need not
  (a conversation that wrote on two days counts on both);
* a **breakdown** entry is the period under one more filter: `by_channel["whatsapp"]`
  is `GET /api/kpis?channel=whatsapp` with the other filters kept, likewise for each
  language and each creditor that has claims. A filter already set leaves only its
  own value in its breakdown.

Weeks are ISO weeks (Monday to Sunday), months calendar months; the first and last
bucket are cut to the period. The whole series is the service's four aggregate queries,
each grouped by a bucket index (a CASE over the buckets' bounds, domain/kpis/periods.py);
each breakdown entry runs the four queries under its filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.claims.models import Claim, Creditor
from domain.kpis.errors import BadPeriod
from domain.kpis.periods import Period, bucket_index
from domain.kpis.service import (
    Amounts,
    Filters,
    Funnel,
    PromiseCounts,
    amounts,
    amounts_by,
    funnel,
    funnel_by,
    handoffs,
    handoffs_by,
    no_promises,
    promises,
    promises_by,
)

Bucket = Literal["day", "week", "month"]
BUCKETS: Final = ("day", "week", "month")
# More buckets than a year of days is never a readable chart: choose a wider bucket.
MAX_BUCKETS: Final = 366
# Without `bucket`: days up to two months, weeks up to a year, then months.
DAYS_BY_DAY: Final = 62
DAYS_BY_WEEK: Final = 366


@dataclass(frozen=True)
class Slice:
    """The headline numbers of one bucket or one breakdown value."""

    conversations: int
    verified: int
    settled: int
    contained: int
    promises: int
    pending: int
    kept: int
    broken: int
    handoffs: int
    amounts: list[Amounts]


@dataclass(frozen=True)
class BucketSlice:
    """One bucket of the series: its first and last day and its numbers."""

    start: date
    end: date
    numbers: Slice


@dataclass(frozen=True)
class CreditorSlice:
    """One creditor's numbers, with its name for a chart's label."""

    name: str
    numbers: Slice


@dataclass(frozen=True)
class Breakdowns:
    """The period by channel, by language and by creditor."""

    by_channel: dict[str, Slice]
    by_language: dict[str, Slice]
    by_creditor: dict[str, CreditorSlice]


def default_bucket(period: Period) -> Bucket:
    """Pick the bucket for a period when none is asked for (see DAYS_BY_DAY, DAYS_BY_WEEK)."""
    days = (period.end - period.start).days + 1
    if days <= DAYS_BY_DAY:
        return "day"
    return "week" if days <= DAYS_BY_WEEK else "month"


def _next_start(day: date, bucket: Bucket) -> date:
    """Return the first day of the bucket after the one holding `day`."""
    if bucket == "day":
        return day + timedelta(days=1)
    if bucket == "week":
        return day + timedelta(days=7 - day.weekday())
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def bucket_count(period: Period, bucket: Bucket) -> int:
    """Count the buckets of a period without listing them."""
    days = (period.end - period.start).days + 1
    if bucket == "day":
        return days
    if bucket == "week":
        first_monday = period.start - timedelta(days=period.start.weekday())
        return (period.end - first_monday).days // 7 + 1
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1


def buckets(period: Period, bucket: Bucket) -> list[Period]:
    """Split a period into buckets, the first and last cut to it; refuse too many."""
    count = bucket_count(period, bucket)
    if count > MAX_BUCKETS:
        wider = "week or month" if bucket == "day" else "month"
        raise BadPeriod(
            f"bucket: {period.start}..{period.end} makes {count} {bucket}s, "
            f"at most {MAX_BUCKETS}: choose {wider}"
        )
    parts: list[Period] = []
    start = period.start
    while start <= period.end:
        end = min(_next_start(start, bucket) - timedelta(days=1), period.end)
        parts.append(Period(start=start, end=end, timezone=period.timezone))
        start = end + timedelta(days=1)
    return parts


def _slice(
    counts: Funnel, cohort: PromiseCounts, reasons: dict[str, int], money: list[Amounts]
) -> Slice:
    return Slice(
        conversations=counts.conversations,
        verified=counts.verified,
        settled=counts.settled,
        contained=counts.contained,
        promises=cohort.total,
        pending=cohort.by_status["pending"],
        kept=cohort.by_status["kept"],
        broken=cohort.by_status["broken"],
        handoffs=sum(reasons.values()),
        amounts=money,
    )


def numbers(*, db_session: Session, period: Period, filters: Filters) -> Slice:
    """Compute one slice with the service's queries (the creditor filter already checked)."""
    return _slice(
        funnel(db_session=db_session, period=period, filters=filters),
        promises(db_session=db_session, period=period, filters=filters),
        handoffs(db_session=db_session, period=period, filters=filters),
        amounts(db_session=db_session, period=period, filters=filters),
    )


def series(
    *, db_session: Session, period: Period, filters: Filters, bucket: Bucket
) -> list[BucketSlice]:
    """Compute the period's numbers per bucket, oldest first: four grouped queries."""
    parts = buckets(period, bucket)
    db, of = db_session, bucket_index(parts)
    counts = funnel_by(db_session=db, period=period, filters=filters, bucket_of=of)
    cohorts = promises_by(db_session=db, period=period, filters=filters, bucket_of=of)
    reasons = handoffs_by(db_session=db, period=period, filters=filters, bucket_of=of)
    money = amounts_by(db_session=db, period=period, filters=filters, bucket_of=of)
    return [
        BucketSlice(
            start=part.start,
            end=part.end,
            numbers=_slice(
                counts.get(n, Funnel()),
                cohorts.get(n) or no_promises(),
                reasons.get(n, {}),
                money.get(n, []),
            ),
        )
        for n, part in enumerate(parts)
    ]


def creditors(*, db_session: Session, only: str | None) -> list[tuple[str, str]]:
    """List the creditors that have claims (id, name), or just the filtered one."""
    with_claims = select(Claim.creditor_id).distinct()
    statement = select(Creditor.id, Creditor.name).where(Creditor.id.in_(with_claims))
    if only is not None:
        statement = statement.where(Creditor.id == only)
    return [
        (str(id_), str(name)) for id_, name in db_session.execute(statement.order_by(Creditor.id))
    ]


def breakdowns(
    *,
    db_session: Session,
    period: Period,
    filters: Filters,
    channels: Sequence[str],
    languages: Sequence[str],
) -> Breakdowns:
    """Compute the period once per channel, language and creditor (the other filters kept)."""

    def under(**narrower: str) -> Slice:
        return numbers(db_session=db_session, period=period, filters=replace(filters, **narrower))

    return Breakdowns(
        by_channel={
            channel: under(channel=channel)
            for channel in channels
            if filters.channel in (None, channel)
        },
        by_language={
            language: under(language=language)
            for language in languages
            if filters.language in (None, language)
        },
        by_creditor={
            creditor: CreditorSlice(name=name, numbers=under(creditor=creditor))
            for creditor, name in creditors(db_session=db_session, only=filters.creditor)
        },
    )
