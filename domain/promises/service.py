"""Promises: record what a debtor committed to, exactly once per idempotency key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.claims.models import Claim
from domain.errors import NotFound, ValidationFailed
from domain.promises.models import (
    PROMISE_KINDS,
    PROMISE_STATUSES,
    Instalment,
    InstalmentPart,
    Promise,
    PromiseClaim,
    promise_claims,
)
from policy.allocation import allocate_promise
from policy.errors import InvalidRequest


def get_by_idempotency_key(*, db_session: Session, idempotency_key: str) -> Promise | None:
    """Get the promise recorded under an idempotency key."""
    return db_session.scalar(select(Promise).where(Promise.idempotency_key == idempotency_key))


def create(
    *,
    db_session: Session,
    claim_references: Sequence[str],
    kind: str,
    amount: Decimal,
    discount: Decimal = Decimal("0.00"),
    due_date: date,
    instalments: Sequence[tuple[int, Decimal, date]] = (),
    channel: str,
    conversation_id: str | None,
    policy_version: str | None,
    idempotency_key: str | None,
) -> Promise:
    """Create a promise for one or more claims; a known idempotency key returns the stored one.

    Over several claims, each claim's part (amount, discount, part of every instalment)
    is fixed here, pro rata by the claims' totals, oldest claim first (policy.allocation).
    """
    if idempotency_key is not None:
        existing = get_by_idempotency_key(db_session=db_session, idempotency_key=idempotency_key)
        if existing is not None:
            return existing
    if kind not in PROMISE_KINDS:
        raise ValidationFailed(f"kind: unknown promise kind {kind!r}")
    if not claim_references:
        raise ValidationFailed("claim_references: a promise needs at least one claim")
    if amount < 0 or discount < 0:
        raise ValidationFailed("amount: amounts must not be negative")
    claims = []
    for reference in dict.fromkeys(claim_references):
        claim = db_session.get(Claim, reference)
        if claim is None:
            raise NotFound(f"claim {reference} not found")
        claims.append(claim)
    numbers = [number for number, _, _ in instalments]
    if len(set(numbers)) != len(numbers):
        raise ValidationFailed("instalments: instalment numbers must be unique")
    # Oldest claim first: the order the allocation's ties follow, whatever the caller's.
    claims.sort(key=lambda claim: (claim.due_date, claim.reference))
    schedule = sorted(instalments, key=lambda item: item[0])
    try:
        shares = allocate_promise(
            amount=amount,
            discount=discount,
            balances=[claim.total for claim in claims],
            instalments=[value for _, value, _ in schedule],
        )
    except InvalidRequest as error:
        raise ValidationFailed(f"instalments: {error}") from None

    promise = Promise(
        kind=kind,
        amount=amount,
        discount=discount,
        due_date=due_date,
        channel=channel,
        conversation_id=conversation_id,
        policy_version=policy_version,
        idempotency_key=idempotency_key,
        parts=[
            PromiseClaim(claim=claim, amount=share.amount, discount=share.discount)
            for claim, share in zip(claims, shares, strict=True)
        ],
        instalments=[
            Instalment(
                number=number,
                amount=value,
                due_date=due,
                parts=[
                    InstalmentPart(claim_reference=claim.reference, amount=share.instalments[k])
                    for claim, share in zip(claims, shares, strict=True)
                    if share.instalments[k] > 0
                ],
            )
            for k, (number, value, due) in enumerate(schedule)
        ],
    )
    try:
        # The savepoint keeps a lost race on the idempotency key from spoiling the session.
        with db_session.begin_nested():
            db_session.add(promise)
            db_session.flush()
    except IntegrityError:
        if idempotency_key is None:
            raise
        existing = get_by_idempotency_key(db_session=db_session, idempotency_key=idempotency_key)
        if existing is None:
            raise
        return existing
    return promise


def get(*, db_session: Session, promise_id: int) -> Promise | None:
    """Get a promise by its id."""
    return db_session.get(Promise, promise_id)


def list_for_claim(*, db_session: Session, claim_reference: str) -> list[Promise]:
    """List the promises covering a claim, newest first."""
    stmt = (
        select(Promise)
        .join(promise_claims, promise_claims.c.promise_id == Promise.id)
        .where(promise_claims.c.claim_reference == claim_reference)
        .order_by(Promise.created_at.desc(), Promise.id.desc())
    )
    return list(db_session.scalars(stmt))


def set_status(*, db_session: Session, promise_id: int, status: str) -> Promise:
    """Set a promise's status (kept, broken, cancelled)."""
    if status not in PROMISE_STATUSES:
        raise ValidationFailed(f"status: unknown promise status {status!r}")
    promise = db_session.get(Promise, promise_id)
    if promise is None:
        raise NotFound(f"promise {promise_id} not found")
    promise.status = status
    db_session.flush()
    return promise
