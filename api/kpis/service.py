"""Collection KPIs over a period, each number one aggregate query (never rows loaded).

What decides membership in the period
-------------------------------------
A period is whole days, `start` to `end` (both included), in the service's time zone
(`QUITT_TIMEZONE`, Europe/Berlin): from `start` 00:00 up to the midnight after `end`.
Each number has its own timestamp:

* **conversations**: conversations (one per sender and channel) with at least one
  message from the debtor in the period (`messages.created_at`). A WhatsApp number
  that wrote last year and again now counts once, in both periods.
* **verified**: of those, the ones with a passed identity check in the period (the
  audit event `verification_succeeded`).
* **settled**: of those, the ones in which a promise was recorded in the period
  (`promises.created_at`, a cancelled promise left out).
* **contained**: of the settled ones, those without any handoff in the period
  (`handoffs.created_at`): the bot settled them without an agent.
* **promises**: promises recorded in the period (`promises.created_at`), by kind, and
  by their status now (`pending`, `kept`, `broken`: a cohort, so kept and broken
  move as payments come in and the sweep runs). Cancelled promises are counted
  apart and left out of every other number.
* **amounts**: `promised` sums those promises' amounts (a settlement's discounted
  amount); `received` sums what payments allocated to them so far, whatever the
  booking date. Both per claim currency.
* **handoffs**: handoffs opened in the period (`handoffs.created_at`), by reason;
  every CONTRACT reason is listed, with 0 when none.

Filters
-------
`channel` is the conversation's, promise's or handoff's own channel. `language` is the
conversation's language (for a handoff its own recorded language, else the
conversation's; a promise without a conversation has none). `creditor` keeps, for
conversations, those whose verified debtor has a claim of that creditor; for promises,
the per-claim parts on that creditor's claims (CONTRACT §3): a promise over claims of
two creditors counts once for each, with each creditor's part of the amount and of
what was received; for handoffs, those about one of its claims, or, without a claim,
in a conversation counted for it. Unverified conversations belong to no creditor.

Money is summed in whole cents, so SQLite's floating-point arithmetic cannot lose a
cent over many rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

import api.db.models  # noqa: F401  (every mapper must be known before the first query)
from api.audit.models import AuditEvent
from api.claims.models import Claim, Creditor
from api.conversations.models import Conversation, Message
from api.handoffs.models import HANDOFF_REASONS, Handoff
from api.kpis.errors import BadPeriod, UnknownCreditor
from api.payments.models import PaymentAllocation
from api.promises.models import PROMISE_KINDS, Promise, PromiseClaim

# The promise statuses a cohort is split into; `cancelled` is counted apart.
LIVE_STATUSES: Final = ("pending", "kept", "broken")
VERIFIED_EVENT: Final = "verification_succeeded"
# Dates outside these cannot be turned into instants in every time zone (year 1, 9999).
EARLIEST: Final = date(1900, 1, 1)
LATEST: Final = date(9998, 12, 31)
RATE_PLACES: Final = Decimal("0.0001")
CENT: Final = Decimal("0.01")


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


@dataclass(frozen=True)
class Filters:
    """What to narrow the KPIs to; None keeps everything."""

    creditor: str | None = None
    channel: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Funnel:
    """Conversations in the period, and how many were verified, settled and contained."""

    conversations: int = 0
    verified: int = 0
    settled: int = 0
    contained: int = 0


@dataclass(frozen=True)
class PromiseCounts:
    """Promises recorded in the period: by kind and by status now; cancelled apart."""

    by_kind: dict[str, int]
    by_status: dict[str, int]
    cancelled: int = 0

    @property
    def total(self) -> int:
        """Count the promises that were not cancelled."""
        return sum(self.by_status.values())


@dataclass(frozen=True)
class Amounts:
    """What the period's promises promised and what came in on them, in one currency."""

    currency: str
    promised: Decimal = Decimal("0.00")
    received: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Kpis:
    """Every KPI of one period under one set of filters."""

    period: Period
    filters: Filters
    funnel: Funnel
    promises: PromiseCounts
    amounts: list[Amounts]
    handoffs: dict[str, int] = field(default_factory=dict)

    @property
    def handoffs_total(self) -> int:
        """Count every handoff of the period."""
        return sum(self.handoffs.values())

    def rates(self) -> dict[str, Decimal | None]:
        """Return the shares: verified and contained conversations, kept and broken promises."""
        return {
            "verified": rate(self.funnel.verified, self.funnel.conversations),
            "containment": rate(self.funnel.contained, self.funnel.conversations),
            "kept": rate(self.promises.by_status["kept"], self.promises.total),
            "broken": rate(self.promises.by_status["broken"], self.promises.total),
        }


# -- pure helpers -----------------------------------------------------------------------------


def make_period(*, start: date, end: date, timezone: str) -> Period:
    """Build a period, refusing an empty one or dates out of range."""
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise BadPeriod(f"{name}: {day.isoformat()} is out of range ({EARLIEST}..{LATEST})")
    if start > end:
        raise BadPeriod(f"from ({start.isoformat()}) is after to ({end.isoformat()})")
    return Period(start=start, end=end, timezone=timezone)


def rate(part: int, whole: int) -> Decimal | None:
    """Return part / whole to four places (half up), or None when there is no whole."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def from_cents(value: Any) -> Decimal:
    """Return a sum of whole cents (any driver's number, or None) as money."""
    if value is None:
        return Decimal("0.00")
    return (Decimal(str(value)) / 100).quantize(CENT)


def _cents(amount: Any) -> ColumnElement[Any]:
    """Sum an amount column in whole cents (exact on SQLite's floats too)."""
    return func.sum(func.round(amount * 100))


def _during(column: Any, period: Period) -> ColumnElement[bool]:
    first, after = period.bounds()
    return and_(column >= first, column < after)


# -- the creditor filter, one predicate per thing counted ------------------------------------


def _debtor_owes_creditor(debtor_id: Any, creditor: str) -> ColumnElement[bool]:
    """Tell whether the debtor has a claim of the creditor."""
    claim = aliased(Claim)
    return exists().where(claim.debtor_id == debtor_id, claim.creditor_id == creditor)


def _conversation_filters(conversation: Any, filters: Filters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.channel is not None:
        where.append(conversation.channel == filters.channel)
    if filters.language is not None:
        where.append(conversation.language == filters.language)
    if filters.creditor is not None:
        where.append(_debtor_owes_creditor(conversation.debtor_id, filters.creditor))
    return where


def check_creditor(*, db_session: Session, creditor: str | None) -> None:
    """Refuse a `creditor` filter that names no creditor."""
    if creditor is None:
        return
    printable = creditor.isprintable() and creditor.strip() == creditor and creditor
    if not printable or db_session.get(Creditor, creditor) is None:
        raise UnknownCreditor(f"creditor: no creditor with the id {creditor!r}")


# -- the aggregates ---------------------------------------------------------------------------


def funnel(*, db_session: Session, period: Period, filters: Filters) -> Funnel:
    """Count the period's conversations and how many were verified, settled and contained."""
    active = (
        select(Message.conversation_id.label("sender_id"))
        .where(Message.author == "debtor", _during(Message.created_at, period))
        .distinct()
        .subquery("active")
    )
    conversation = aliased(Conversation)
    verified = exists().where(
        AuditEvent.kind == VERIFIED_EVENT,
        AuditEvent.conversation_id == conversation.sender_id,
        _during(AuditEvent.created_at, period),
    )
    promise = aliased(Promise)
    promised = [
        promise.conversation_id == conversation.sender_id,
        promise.status != "cancelled",
        _during(promise.created_at, period),
    ]
    if filters.creditor is not None:
        part, claim = aliased(PromiseClaim), aliased(Claim)
        promised.append(
            exists().where(
                part.promise_id == promise.id,
                claim.reference == part.claim_reference,
                claim.creditor_id == filters.creditor,
            )
        )
    settled = exists().where(*promised)
    handed_off = exists().where(
        Handoff.conversation_id == conversation.sender_id, _during(Handoff.created_at, period)
    )
    one = literal(1)
    statement = (
        select(
            func.count(),
            func.sum(case((verified, one), else_=0)),
            func.sum(case((settled, one), else_=0)),
            func.sum(case((and_(settled, ~handed_off), one), else_=0)),
        )
        .select_from(active)
        .join(conversation, conversation.sender_id == active.c.sender_id)
        .where(*_conversation_filters(conversation, filters))
    )
    row = db_session.execute(statement).one()
    return Funnel(*(int(value or 0) for value in row))


def _promise_filters(
    promise: Any, claim: Any, period: Period, filters: Filters
) -> list[ColumnElement[bool]]:
    """Return the conditions on a promise (and the claim of one part) for the filters."""
    where = [_during(promise.created_at, period)]
    if filters.channel is not None:
        where.append(promise.channel == filters.channel)
    if filters.language is not None:
        where.append(
            exists().where(
                Conversation.sender_id == promise.conversation_id,
                Conversation.language == filters.language,
            )
        )
    if filters.creditor is not None:
        where.append(claim.creditor_id == filters.creditor)
    return where


def promises(*, db_session: Session, period: Period, filters: Filters) -> PromiseCounts:
    """Count the period's promises by kind and by status now, cancelled ones apart."""
    promise, part, claim = aliased(Promise), aliased(PromiseClaim), aliased(Claim)
    # Over the parts, so that a creditor filter keeps the promises with a part on its
    # claims; each promise counts once however many parts it has.
    statement = (
        select(promise.kind, promise.status, func.count(func.distinct(promise.id)))
        .select_from(part)
        .join(promise, promise.id == part.promise_id)
        .join(claim, claim.reference == part.claim_reference)
        .where(*_promise_filters(promise, claim, period, filters))
        .group_by(promise.kind, promise.status)
    )
    by_kind = dict.fromkeys(PROMISE_KINDS, 0)
    by_status = dict.fromkeys(LIVE_STATUSES, 0)
    cancelled = 0
    for kind, status, count in db_session.execute(statement):
        if status == "cancelled":
            cancelled += int(count)
            continue
        by_kind[kind] = by_kind.get(kind, 0) + int(count)
        by_status[status] = by_status.get(status, 0) + int(count)
    return PromiseCounts(by_kind=by_kind, by_status=by_status, cancelled=cancelled)


def amounts(*, db_session: Session, period: Period, filters: Filters) -> list[Amounts]:
    """Sum what the period's promises promised and received, per claim currency."""
    promise, part, claim = aliased(Promise), aliased(PromiseClaim), aliased(Claim)
    where = [promise.status != "cancelled", *_promise_filters(promise, claim, period, filters)]
    promised = db_session.execute(
        select(claim.currency, _cents(part.amount))
        .select_from(part)
        .join(promise, promise.id == part.promise_id)
        .join(claim, claim.reference == part.claim_reference)
        .where(*where)
        .group_by(claim.currency)
    ).all()
    # An allocation to a promise pays one claim's part of it: the claim names the part.
    allocation = aliased(PaymentAllocation)
    received = db_session.execute(
        select(claim.currency, _cents(allocation.amount))
        .select_from(allocation)
        .join(promise, promise.id == allocation.promise_id)
        .join(claim, claim.reference == allocation.claim_reference)
        .where(*where)
        .group_by(claim.currency)
    ).all()
    sums: dict[str, dict[str, Decimal]] = {}
    for key, rows in (("promised", promised), ("received", received)):
        for currency, cents in rows:
            sums.setdefault(str(currency), {})[key] = from_cents(cents)
    return [Amounts(currency, **sums[currency]) for currency in sorted(sums)]


def handoffs(*, db_session: Session, period: Period, filters: Filters) -> dict[str, int]:
    """Count the handoffs opened in the period by reason, every reason listed."""
    handoff, conversation = aliased(Handoff), aliased(Conversation)
    where = [_during(handoff.created_at, period)]
    if filters.channel is not None:
        where.append(handoff.channel == filters.channel)
    if filters.language is not None:
        language = func.coalesce(handoff.language, conversation.language)
        where.append(language == filters.language)
    if filters.creditor is not None:
        claim = aliased(Claim)
        about_claim = exists().where(
            claim.reference == handoff.claim_reference, claim.creditor_id == filters.creditor
        )
        about_debtor = and_(
            handoff.claim_reference.is_(None),
            _debtor_owes_creditor(conversation.debtor_id, filters.creditor),
        )
        where.append(or_(about_claim, about_debtor))
    statement = (
        select(handoff.reason, func.count())
        .select_from(handoff)
        .join(conversation, conversation.sender_id == handoff.conversation_id)
        .where(*where)
        .group_by(handoff.reason)
    )
    counts = dict.fromkeys(HANDOFF_REASONS, 0)
    for reason, count in db_session.execute(statement):
        counts[reason] = counts.get(reason, 0) + int(count)
    return counts


def compute(*, db_session: Session, period: Period, filters: Filters) -> Kpis:
    """Compute every KPI of the period under the filters."""
    check_creditor(db_session=db_session, creditor=filters.creditor)
    return Kpis(
        period=period,
        filters=filters,
        funnel=funnel(db_session=db_session, period=period, filters=filters),
        promises=promises(db_session=db_session, period=period, filters=filters),
        amounts=amounts(db_session=db_session, period=period, filters=filters),
        handoffs=handoffs(db_session=db_session, period=period, filters=filters),
    )
