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

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from domain.audit.models import AuditEvent
from domain.claims.models import Claim, Creditor
from domain.conversations.models import Conversation, Message
from domain.handoffs.models import HANDOFF_REASONS, Handoff
from domain.kpis.errors import UnknownCreditor
from domain.kpis.periods import Period as Period  # re-exported, as make_period
from domain.kpis.periods import bucket_index as bucket_index
from domain.kpis.periods import make_period as make_period
from domain.payments.models import PaymentAllocation
from domain.promises.models import PROMISE_KINDS, Promise, PromiseClaim

# The promise statuses a cohort is split into; `cancelled` is counted apart.
LIVE_STATUSES: Final = ("pending", "kept", "broken")
VERIFIED_EVENT: Final = "verification_succeeded"
RATE_PLACES: Final = Decimal("0.0001")
CENT: Final = Decimal("0.01")
# Maps a timestamp column to the index of its bucket (domain/kpis/series.py); None: no buckets.
BucketOf = Callable[[Any], ColumnElement[Any]] | None


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


def _keys(bucket_of: BucketOf, column: Any) -> list[ColumnElement[Any]]:
    """Return the bucket column to select and group by, or nothing without buckets."""
    return [] if bucket_of is None else [bucket_of(column).label("bucket")]


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


def funnel_by(
    *, db_session: Session, period: Period, filters: Filters, bucket_of: BucketOf = None
) -> dict[int, Funnel]:
    """Count conversations, verified, settled and contained, per bucket (0 without buckets).

    With buckets, a conversation counts in each bucket it wrote in, and is verified,
    settled or handed off in a bucket when that happened in the same bucket.
    """
    active = (
        select(Message.conversation_id.label("sender_id"), *_keys(bucket_of, Message.created_at))
        .where(Message.author == "debtor", _during(Message.created_at, period))
        .distinct()
        .subquery("active")
    )

    def same_bucket(column: Any) -> list[ColumnElement[bool]]:
        return [] if bucket_of is None else [bucket_of(column) == active.c.bucket]

    conversation = aliased(Conversation)
    verified = exists().where(
        AuditEvent.kind == VERIFIED_EVENT,
        AuditEvent.conversation_id == conversation.sender_id,
        _during(AuditEvent.created_at, period),
        *same_bucket(AuditEvent.created_at),
    )
    promise = aliased(Promise)
    promised = [
        promise.conversation_id == conversation.sender_id,
        promise.status != "cancelled",
        _during(promise.created_at, period),
        *same_bucket(promise.created_at),
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
        Handoff.conversation_id == conversation.sender_id,
        _during(Handoff.created_at, period),
        *same_bucket(Handoff.created_at),
    )
    one = literal(1)
    key = [] if bucket_of is None else [active.c.bucket]
    statement = (
        select(
            *key,
            func.count(),
            func.sum(case((verified, one), else_=0)),
            func.sum(case((settled, one), else_=0)),
            func.sum(case((and_(settled, ~handed_off), one), else_=0)),
        )
        .select_from(active)
        .join(conversation, conversation.sender_id == active.c.sender_id)
        .where(*_conversation_filters(conversation, filters))
        .group_by(*key)
    )
    found = {}
    for row in db_session.execute(statement):
        bucket = int(row[0]) if key else 0
        found[bucket] = Funnel(*(int(value or 0) for value in row[-4:]))
    return found


def funnel(*, db_session: Session, period: Period, filters: Filters) -> Funnel:
    """Count the period's conversations and how many were verified, settled and contained."""
    return funnel_by(db_session=db_session, period=period, filters=filters).get(0, Funnel())


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


def promises_by(
    *, db_session: Session, period: Period, filters: Filters, bucket_of: BucketOf = None
) -> dict[int, PromiseCounts]:
    """Count promises by kind and status now, cancelled apart, per bucket of `created_at`."""
    promise, part, claim = aliased(Promise), aliased(PromiseClaim), aliased(Claim)
    keys = _keys(bucket_of, promise.created_at)
    # Over the parts, so that a creditor filter keeps the promises with a part on its
    # claims; each promise counts once however many parts it has.
    statement = (
        select(*keys, promise.kind, promise.status, func.count(func.distinct(promise.id)))
        .select_from(part)
        .join(promise, promise.id == part.promise_id)
        .join(claim, claim.reference == part.claim_reference)
        .where(*_promise_filters(promise, claim, period, filters))
        .group_by(*keys, promise.kind, promise.status)
    )
    found: dict[int, PromiseCounts] = {}
    for row in db_session.execute(statement):
        kind, status, count = row[-3:]
        bucket = int(row[0]) if keys else 0
        counts = found.setdefault(bucket, no_promises())
        if status == "cancelled":
            found[bucket] = PromiseCounts(
                counts.by_kind, counts.by_status, counts.cancelled + int(count)
            )
            continue
        counts.by_kind[kind] = counts.by_kind.get(kind, 0) + int(count)
        counts.by_status[status] = counts.by_status.get(status, 0) + int(count)
    return found


def no_promises() -> PromiseCounts:
    """Return the counts of no promise: every kind and status with 0."""
    return PromiseCounts(
        by_kind=dict.fromkeys(PROMISE_KINDS, 0), by_status=dict.fromkeys(LIVE_STATUSES, 0)
    )


def promises(*, db_session: Session, period: Period, filters: Filters) -> PromiseCounts:
    """Count the period's promises by kind and by status now, cancelled ones apart."""
    found = promises_by(db_session=db_session, period=period, filters=filters)
    return found.get(0) or no_promises()


def amounts_by(
    *, db_session: Session, period: Period, filters: Filters, bucket_of: BucketOf = None
) -> dict[int, list[Amounts]]:
    """Sum what promises promised and received per claim currency, per bucket of `created_at`."""
    promise, part, claim = aliased(Promise), aliased(PromiseClaim), aliased(Claim)
    keys = _keys(bucket_of, promise.created_at)
    where = [promise.status != "cancelled", *_promise_filters(promise, claim, period, filters)]
    promised = db_session.execute(
        select(*keys, claim.currency, _cents(part.amount))
        .select_from(part)
        .join(promise, promise.id == part.promise_id)
        .join(claim, claim.reference == part.claim_reference)
        .where(*where)
        .group_by(*keys, claim.currency)
    ).all()
    # An allocation to a promise pays one claim's part of it: the claim names the part.
    allocation = aliased(PaymentAllocation)
    received = db_session.execute(
        select(*keys, claim.currency, _cents(allocation.amount))
        .select_from(allocation)
        .join(promise, promise.id == allocation.promise_id)
        .join(claim, claim.reference == allocation.claim_reference)
        .where(*where)
        .group_by(*keys, claim.currency)
    ).all()
    sums: dict[int, dict[str, dict[str, Decimal]]] = {}
    for name, rows in (("promised", promised), ("received", received)):
        for row in rows:
            bucket = int(row[0]) if keys else 0
            currency, cents = row[-2:]
            sums.setdefault(bucket, {}).setdefault(str(currency), {})[name] = from_cents(cents)
    return {
        bucket: [Amounts(currency, **by_currency[currency]) for currency in sorted(by_currency)]
        for bucket, by_currency in sums.items()
    }


def amounts(*, db_session: Session, period: Period, filters: Filters) -> list[Amounts]:
    """Sum what the period's promises promised and received, per claim currency."""
    return amounts_by(db_session=db_session, period=period, filters=filters).get(0, [])


def handoffs_by(
    *, db_session: Session, period: Period, filters: Filters, bucket_of: BucketOf = None
) -> dict[int, dict[str, int]]:
    """Count handoffs by reason, per bucket of `created_at`, every reason listed."""
    handoff, conversation = aliased(Handoff), aliased(Conversation)
    keys = _keys(bucket_of, handoff.created_at)
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
        select(*keys, handoff.reason, func.count())
        .select_from(handoff)
        .join(conversation, conversation.sender_id == handoff.conversation_id)
        .where(*where)
        .group_by(*keys, handoff.reason)
    )
    found: dict[int, dict[str, int]] = {}
    for row in db_session.execute(statement):
        bucket = int(row[0]) if keys else 0
        reason, count = row[-2:]
        counts = found.setdefault(bucket, dict.fromkeys(HANDOFF_REASONS, 0))
        counts[reason] = counts.get(reason, 0) + int(count)
    return found


def handoffs(*, db_session: Session, period: Period, filters: Filters) -> dict[str, int]:
    """Count the handoffs opened in the period by reason, every reason listed."""
    found = handoffs_by(db_session=db_session, period=period, filters=filters)
    return found.get(0) or dict.fromkeys(HANDOFF_REASONS, 0)


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
