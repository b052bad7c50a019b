"""Returned and reversed payments: a debit that takes a booked credit back.

A bank takes a credit back in two ways that a camt.053 shows as a booked debit:
a **reversal** (the entry's `RvslInd` is true: the booking is cancelled) and a
**return** (a debit of the same amount that names the credit's EndToEndId or TxId,
e.g. a transfer sent back). Either is booked here when it names a payment we hold:

1. the same currency and amount, and one of its references (EndToEndId, TxId) is
   the payment's, or its own bank reference is the payment's transaction id;
2. the payment is not reversed already (each payment once, each debit once: keyed
   by the debit's bank transaction id, like a payment).

Booking it stores a PaymentReversal, removes the payment's allocations and marks it
`reversed`; what those allocations had settled is reopened: a kept instalment or
promise goes back to `pending` (the sweep that follows the import breaks it if it is
late by then) and a claim that was `paid` goes back to `open` when it owes again.
Every step is audited (`payment_reversed`, `claim_reopened`). A debit naming no
payment stays left out, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.claims.models import Claim
from domain.payments import ledger
from domain.payments.allocation import ZERO
from domain.payments.models import Payment, PaymentReversal
from domain.payments.statement import DebitLine
from domain.promises.models import Instalment, Promise

REVERSAL = "reversal"
RETURN = "return"


@dataclass
class Reopened:
    """What a reversal reopened."""

    instalments: list[int] = field(default_factory=list)
    promises: list[int] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)


def already_booked(db_session: Session, debit: DebitLine) -> bool:
    """Tell whether this debit was booked as a reversal before."""
    found = db_session.scalar(
        select(PaymentReversal.id).where(PaymentReversal.transaction_id == debit.transaction_id)
    )
    return found is not None


def find_payment(db_session: Session, debit: DebitLine) -> Payment | None:
    """Find the one payment the debit takes back, or None when it names none (or several)."""
    named = [Payment.transaction_id == debit.transaction_id]
    if debit.references:
        refs = list(debit.references)
        named += [Payment.end_to_end_id.in_(refs), Payment.tx_id.in_(refs)]
    found = list(
        db_session.scalars(
            select(Payment)
            .where(
                or_(*named),
                Payment.amount == debit.amount,
                Payment.currency == debit.currency,
                Payment.state != "reversed",
            )
            .order_by(Payment.id)
            .limit(2)
        )
    )
    return found[0] if len(found) == 1 else None


def _reopen(db_session: Session, payment: Payment) -> Reopened:
    """Remove the payment's allocations and reopen what they had settled."""
    reopened = Reopened()
    instalment_ids = {a.instalment_id for a in payment.allocations if a.instalment_id}
    promise_ids = {a.promise_id for a in payment.allocations if a.promise_id}
    references = sorted({a.claim_reference for a in payment.allocations})
    payment.allocations.clear()
    db_session.flush()
    for instalment_id in sorted(instalment_ids):
        instalment = db_session.get(Instalment, instalment_id)
        if instalment is not None and instalment.status == "kept":
            instalment.status = "pending"
            reopened.instalments.append(instalment_id)
    for promise_id in sorted(promise_ids):
        promise = db_session.get(Promise, promise_id)
        if promise is not None and promise.status == "kept":
            promise.status = "pending"
            reopened.promises.append(promise_id)
    db_session.flush()
    for reference in references:
        claim = db_session.get(Claim, reference)
        if claim is None or claim.status != "paid":
            continue
        claim.status = "open"  # owed again? the ledger decides, with the status open
        if ledger.balance(db_session=db_session, claim=claim) > ZERO:
            reopened.claims.append(reference)
        else:
            claim.status = "paid"
    db_session.flush()
    return reopened


def book(*, db_session: Session, debit: DebitLine, payment: Payment, source: str) -> Reopened:
    """Book the debit as the reversal of the payment; reopen and audit what it had paid."""
    allocations = [
        {
            "claim_reference": a.claim_reference,
            "promise_id": a.promise_id,
            "instalment_id": a.instalment_id,
            "amount": str(a.amount),
        }
        for a in payment.allocations
    ]
    db_session.add(
        PaymentReversal(
            transaction_id=debit.transaction_id,
            payment_id=payment.id,
            amount=debit.amount,
            booked_on=debit.booked_on,
            kind=REVERSAL if debit.reversal else RETURN,
            source=source,
        )
    )
    previous = payment.state
    payment.state = "reversed"
    reopened = _reopen(db_session, payment)
    audit_service.record(
        db_session=db_session,
        kind="payment_reversed",
        claim_reference=payment.claim_reference,
        reasons=[REVERSAL if debit.reversal else RETURN],
        data={
            "payment_id": payment.id,
            "transaction_id": payment.transaction_id,
            "reversal_transaction_id": debit.transaction_id,
            "amount": str(debit.amount),
            "booked_on": debit.booked_on.isoformat(),
            "previous_state": previous,
            "allocations_removed": allocations,
            "instalments_reopened": reopened.instalments,
            "promises_reopened": reopened.promises,
        },
    )
    for reference in reopened.claims:
        audit_service.record(
            db_session=db_session,
            kind="claim_reopened",
            claim_reference=reference,
            reasons=["payment_reversed"],
            data={"payment_id": payment.id},
        )
    return reopened
