"""A claim's case file as the agents see it: its figures and its history.

One place builds it, for the claims API (`ClaimOut`: promises, payments, disputes,
handoffs) and the console's summary of the claim a handoff is about. It sits above
the domain packages it gathers, so none of them needs another's schemas.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from domain.claims.models import Claim
from domain.claims.schemas import CreditorOut, DebtorOut
from domain.db.schemas import Money
from domain.disputes import service as dispute_service
from domain.disputes.schemas import DisputeOut
from domain.handoffs import service as handoff_service
from domain.handoffs.schemas import HandoffOut
from domain.payments import ledger as payment_ledger
from domain.payments import service as payment_service
from domain.payments.schemas import PaymentOut
from domain.promises import service as promise_service
from domain.promises.schemas import PromiseOut
from policy.masking import mask_phone


class ClaimOut(BaseModel):
    """A claim with its history, for the console."""

    reference: str
    creditor: CreditorOut
    debtor: DebtorOut
    subject: str
    due_date: date
    currency: str
    principal: Money
    interest: Money
    fees: Money
    total: Money
    status: str
    # Still owed: total less allocated payments (and a kept settlement's discount).
    balance: Money
    promises: list[PromiseOut]
    payments: list[PaymentOut]
    disputes: list[DisputeOut]
    handoffs: list[HandoffOut]


def figures(claim: Claim) -> dict[str, Any]:
    """Return what the claim is about and its amounts, kept apart."""
    return {
        "subject": claim.subject,
        "due_date": claim.due_date,
        "currency": claim.currency,
        "principal": claim.principal,
        "interest": claim.interest,
        "fees": claim.fees,
        "total": claim.total,
        "status": claim.status,
    }


def promises(*, db_session: Session, reference: str) -> list[PromiseOut]:
    """List the claim's promises; one over several claims shows this claim's part (CONTRACT §3)."""
    return [
        PromiseOut.for_claim(p, reference)
        for p in promise_service.list_for_claim(db_session=db_session, claim_reference=reference)
    ]


def disputes(*, db_session: Session, reference: str) -> list[DisputeOut]:
    """List the claim's disputes."""
    return [
        DisputeOut.model_validate(d)
        for d in dispute_service.list_for_claim(db_session=db_session, claim_reference=reference)
    ]


def claim_out(*, db_session: Session, claim: Claim) -> ClaimOut:
    """Assemble the console's view of a claim and its history."""
    reference = claim.reference
    return ClaimOut(
        reference=reference,
        creditor=CreditorOut.model_validate(claim.creditor),
        debtor=DebtorOut(
            name=claim.debtor.name,
            language=claim.debtor.language,
            phone=mask_phone(claim.debtor.phone) if claim.debtor.phone else None,
        ),
        **figures(claim),
        balance=payment_ledger.balance(db_session=db_session, claim=claim),
        promises=promises(db_session=db_session, reference=reference),
        payments=[
            PaymentOut.model_validate(p)
            for p in payment_service.list_for_claim(
                db_session=db_session, claim_reference=reference
            )
        ],
        disputes=disputes(db_session=db_session, reference=reference),
        handoffs=[
            HandoffOut.model_validate(h)
            for h in handoff_service.list_for_claim(
                db_session=db_session, claim_reference=reference
            )
        ],
    )
