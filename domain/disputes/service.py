"""Disputes: record a debtor's objection and tell whether a claim is under review."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from domain.claims.models import Claim
from domain.disputes.models import Dispute
from domain.errors import NotFound, ValidationFailed


def create(
    *, db_session: Session, claim_reference: str, conversation_id: str | None, reason_text: str
) -> Dispute:
    """Record an open dispute against a claim."""
    if db_session.get(Claim, claim_reference) is None:
        raise NotFound(f"claim {claim_reference} not found")
    if not reason_text.strip():
        raise ValidationFailed("reason_text: a dispute needs a reason")
    dispute = Dispute(
        claim_reference=claim_reference,
        conversation_id=conversation_id,
        reason_text=reason_text.strip(),
    )
    db_session.add(dispute)
    db_session.flush()
    return dispute


def has_open(*, db_session: Session, claim_reference: str) -> bool:
    """Tell whether a claim has an open dispute."""
    stmt = select(
        exists().where(Dispute.claim_reference == claim_reference, Dispute.status == "open")
    )
    return bool(db_session.scalar(stmt))


def list_for_claim(*, db_session: Session, claim_reference: str) -> list[Dispute]:
    """List a claim's disputes, newest first."""
    stmt = (
        select(Dispute)
        .where(Dispute.claim_reference == claim_reference)
        .order_by(Dispute.created_at.desc(), Dispute.id.desc())
    )
    return list(db_session.scalars(stmt))
