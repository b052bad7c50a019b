"""`GET /api/claims/{reference}` for the console."""

from __future__ import annotations

from fastapi import APIRouter

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep
from domain import casefile
from domain.casefile import ClaimOut
from domain.claims import service as claim_service
from domain.errors import NotFound

router = APIRouter(prefix="/api/claims", tags=["claims"])


@router.get("/{reference}")
def read_claim(reference: str, db_session: SessionDep, _agent: CurrentAgent) -> ClaimOut:
    """Show a claim with its balance, promises, payments, disputes and handoffs."""
    claim = claim_service.get_by_reference(db_session=db_session, reference=reference)
    if claim is None:
        raise NotFound(f"claim {reference} not found")
    return casefile.claim_out(db_session=db_session, claim=claim)
