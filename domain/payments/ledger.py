"""What a claim has received and still owes, and what a payment to it can pay.

A claim's `balance` is its total (principal + interest + fees) less the
payments allocated to it, less the discount of every settlement (or other
promise with a discount) that was kept: a settlement's discount is granted only
once the promised amount came in, so while it is pending, or after it broke,
the full total stays owed. A claim with status `paid` owes nothing, whether our
payments paid it or the creditor's file said so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.claims.models import Claim
from domain.payments.allocation import ZERO, Slot
from domain.payments.models import PaymentAllocation
from domain.promises.models import Promise, PromiseClaim, promise_claims

BALANCE = "balance"
INSTALMENT = "instalment"
PROMISE = "promise"


def allocated(*, db_session: Session, references: Collection[str]) -> dict[str, Decimal]:
    """Sum what payments allocated to each claim."""
    if not references:
        return {}
    rows = db_session.execute(
        select(PaymentAllocation.claim_reference, func.sum(PaymentAllocation.amount))
        .where(PaymentAllocation.claim_reference.in_(list(references)))
        .group_by(PaymentAllocation.claim_reference)
    )
    return {reference: Decimal(str(total)).quantize(ZERO) for reference, total in rows}


def kept_discounts(*, db_session: Session, references: Collection[str]) -> dict[str, Decimal]:
    """Sum the discounts of kept promises on each claim."""
    if not references:
        return {}
    rows = db_session.execute(
        select(PromiseClaim.claim_reference, func.sum(PromiseClaim.discount))
        .join(Promise, Promise.id == PromiseClaim.promise_id)
        .where(PromiseClaim.claim_reference.in_(list(references)), Promise.status == "kept")
        .group_by(PromiseClaim.claim_reference)
    )
    return {reference: Decimal(str(total)).quantize(ZERO) for reference, total in rows}


def balances(*, db_session: Session, claims: Iterable[Claim]) -> dict[str, Decimal]:
    """Return what each claim still owes (never below zero)."""
    claims = list(claims)
    references = [claim.reference for claim in claims]
    paid = allocated(db_session=db_session, references=references)
    discounts = kept_discounts(db_session=db_session, references=references)
    result = {}
    for claim in claims:
        if claim.status == "paid":
            result[claim.reference] = ZERO
            continue
        owed = claim.total - paid.get(claim.reference, ZERO) - discounts.get(claim.reference, ZERO)
        result[claim.reference] = max(ZERO, owed)
    return result


def balance(*, db_session: Session, claim: Claim) -> Decimal:
    """Return what one claim still owes."""
    return balances(db_session=db_session, claims=[claim])[claim.reference]


def room(*, db_session: Session, claims: Iterable[Claim]) -> dict[str, Decimal]:
    """Return how much more each claim may receive: its total less what it has received.

    Unlike the balance, a pending settlement's discount is not taken off: the debtor
    may still pay in full.
    """
    claims = list(claims)
    paid = allocated(db_session=db_session, references=[c.reference for c in claims])
    return {
        c.reference: ZERO
        if c.status == "paid"
        else max(ZERO, c.total - paid.get(c.reference, ZERO))
        for c in claims
    }


def paid_on_instalments(
    *, db_session: Session, instalment_ids: Collection[int]
) -> dict[tuple[int, str], Decimal]:
    """Sum what payments allocated to each claim's part of each instalment."""
    if not instalment_ids:
        return {}
    rows = db_session.execute(
        select(
            PaymentAllocation.instalment_id,
            PaymentAllocation.claim_reference,
            func.sum(PaymentAllocation.amount),
        )
        .where(PaymentAllocation.instalment_id.in_(list(instalment_ids)))
        .group_by(PaymentAllocation.instalment_id, PaymentAllocation.claim_reference)
    )
    return {(int(i), ref): Decimal(str(total)).quantize(ZERO) for i, ref, total in rows if i}


def paid_on_promises(
    *, db_session: Session, promise_ids: Collection[int]
) -> dict[tuple[int, str], Decimal]:
    """Sum what payments allocated to each claim's part of each promise (instalments too)."""
    if not promise_ids:
        return {}
    rows = db_session.execute(
        select(
            PaymentAllocation.promise_id,
            PaymentAllocation.claim_reference,
            func.sum(PaymentAllocation.amount),
        )
        .where(PaymentAllocation.promise_id.in_(list(promise_ids)))
        .group_by(PaymentAllocation.promise_id, PaymentAllocation.claim_reference)
    )
    return {(int(p), ref): Decimal(str(total)).quantize(ZERO) for p, ref, total in rows if p}


def pending_promises(*, db_session: Session, reference: str) -> list[Promise]:
    """List the pending promises covering a claim, oldest first."""
    stmt = (
        select(Promise)
        .join(promise_claims, promise_claims.c.promise_id == Promise.id)
        .where(promise_claims.c.claim_reference == reference, Promise.status == "pending")
        .order_by(Promise.created_at, Promise.id)
    )
    return list(db_session.scalars(stmt))


def instalment_parts(promise: Promise, instalment_index: int) -> list[tuple[str, Decimal]]:
    """Return each claim's part of one instalment, oldest claim first.

    An instalment without parts (an old plan whose split did not add up, see
    migration 0005) falls wholly on the promise's oldest claim.
    """
    instalment = promise.instalments[instalment_index]
    order = {reference: n for n, reference in enumerate(promise.claim_references)}
    parts = sorted(instalment.parts, key=lambda part: order.get(part.claim_reference, 99))
    if parts:
        return [(part.claim_reference, part.amount) for part in parts]
    return [(promise.claim_references[0], instalment.amount)]


def promise_parts(promise: Promise) -> list[tuple[str, Decimal]]:
    """Return each claim's part of a one-off promise, oldest claim first."""
    order = {reference: n for n, reference in enumerate(promise.claim_references)}
    parts = sorted(promise.parts, key=lambda part: order.get(part.claim_reference, 99))
    return [(part.claim_reference, part.amount) for part in parts]


def slots(*, db_session: Session, claim: Claim) -> list[Slot]:
    """List what a payment to this claim can pay, in order (domain/payments/allocation.py).

    Open instalments of its pending plans and its pending one-off promises, oldest
    due first (each with every covered claim's part), then the claim's balance.
    """
    promises = pending_promises(db_session=db_session, reference=claim.reference)
    instalment_ids = [i.id for p in promises for i in p.instalments if i.status == "pending"]
    on_instalments = paid_on_instalments(db_session=db_session, instalment_ids=instalment_ids)
    on_promises = paid_on_promises(db_session=db_session, promise_ids=[p.id for p in promises])
    due: list[tuple[tuple[date, datetime, int, int], Slot]] = []
    for promise in promises:
        if promise.instalments:
            for index, instalment in enumerate(promise.instalments):
                if instalment.status != "pending":
                    continue
                parts = tuple(
                    (ref, amount - on_instalments.get((instalment.id, ref), ZERO))
                    for ref, amount in instalment_parts(promise, index)
                )
                order = (instalment.due_date, promise.created_at, promise.id, instalment.number)
                due.append((order, Slot((INSTALMENT, promise.id, instalment.id), parts)))
        else:
            parts = tuple(
                (ref, amount - on_promises.get((promise.id, ref), ZERO))
                for ref, amount in promise_parts(promise)
            )
            order = (promise.due_date, promise.created_at, promise.id, 0)
            due.append((order, Slot((PROMISE, promise.id, None), parts)))
    due.sort(key=lambda item: item[0])
    balance_slot = Slot((BALANCE, None, None), ((claim.reference, claim.total),))
    return [slot for _, slot in due] + [balance_slot]


def expected_amounts(*, db_session: Session, claim: Claim) -> set[Decimal]:
    """Return the amounts a payment to this claim would plausibly be.

    The first open slot (next instalment or promise) as a whole and as this claim's
    part, every pending promise's whole amount, the balance and the total.
    """
    amounts = {claim.total, balance(db_session=db_session, claim=claim)}
    open_slots = [s for s in slots(db_session=db_session, claim=claim) if s.key[0] != BALANCE]
    for slot in open_slots[:1]:
        amounts.add(sum((amount for _, amount in slot.parts), ZERO))
        amounts.update(amount for ref, amount in slot.parts if ref == claim.reference)
    for promise in pending_promises(db_session=db_session, reference=claim.reference):
        amounts.add(promise.amount)
        if (part := promise.part_for(claim.reference)) is not None:
            amounts.add(part.amount)
    return {amount for amount in amounts if amount > 0}
