"""`GET /api/claims/{reference}` for the console."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep
from domain.claims import service as claim_service
from domain.claims.models import Claim
from domain.claims.schemas import ClaimOut, CreditorOut, DebtorOut
from domain.disputes import service as dispute_service
from domain.disputes.schemas import DisputeOut
from domain.errors import NotFound
from domain.handoffs import service as handoff_service
from domain.handoffs.schemas import HandoffOut
from domain.payments import ledger as payment_ledger
from domain.payments import service as payment_service
from domain.payments.schemas import PaymentOut
from domain.promises import service as promise_service
from domain.promises.schemas import PromiseOut
from policy.masking import mask_phone

router = APIRouter(prefix="/api/claims", tags=["claims"])


def build_claim_out(*, db_session: Session, claim: Claim) -> ClaimOut:
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
        subject=claim.subject,
        due_date=claim.due_date,
        currency=claim.currency,
        principal=claim.principal,
        interest=claim.interest,
        fees=claim.fees,
        total=claim.total,
        status=claim.status,
        balance=payment_ledger.balance(db_session=db_session, claim=claim),
        promises=[
            # A promise over several claims shows this claim's part of it (CONTRACT §3).
            PromiseOut.for_claim(p, reference)
            for p in promise_service.list_for_claim(
                db_session=db_session, claim_reference=reference
            )
        ],
        payments=[
            PaymentOut.model_validate(p)
            for p in payment_service.list_for_claim(
                db_session=db_session, claim_reference=reference
            )
        ],
        disputes=[
            DisputeOut.model_validate(d)
            for d in dispute_service.list_for_claim(
                db_session=db_session, claim_reference=reference
            )
        ],
        handoffs=[
            HandoffOut.model_validate(h)
            for h in handoff_service.list_for_claim(
                db_session=db_session, claim_reference=reference
            )
        ],
    )


@router.get("/{reference}")
def read_claim(reference: str, db_session: SessionDep, _agent: CurrentAgent) -> ClaimOut:
    """Show a claim with its balance, promises, payments, disputes and handoffs."""
    claim = claim_service.get_by_reference(db_session=db_session, reference=reference)
    if claim is None:
        raise NotFound(f"claim {reference} not found")
    return build_claim_out(db_session=db_session, claim=claim)
