"""`/api/payments`: unmatched payments for agents, and their assignment to a claim."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep
from domain.config import get_settings
from domain.payments import service as payment_service
from domain.payments.schemas import AssignIn, PaymentOut, UnmatchedPaymentOut

router = APIRouter(prefix="/api/payments", tags=["payments"])


def today() -> date:
    """Return today's date in the service's time zone (a dependency, so tests set the clock)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


Today = Annotated[date, Depends(today)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/unmatched")
def list_unmatched(db_session: SessionDep, _agent: CurrentAgent) -> list[UnmatchedPaymentOut]:
    """List the payments no claim could be matched to, oldest booking first."""
    return [
        UnmatchedPaymentOut.model_validate(p)
        for p in payment_service.list_unmatched(db_session=db_session)
    ]


@router.post("/{payment_id}/assign")
def assign_payment(
    payment_id: RowId, body: AssignIn, db_session: SessionDep, agent: CurrentAgent, day: Today
) -> PaymentOut:
    """Assign an unmatched payment to a claim; it is allocated at once (audited)."""
    payment = payment_service.assign(
        db_session=db_session,
        payment_id=payment_id,
        claim_reference=body.reference,
        agent_id=agent.id,
        today=day,
    )
    return PaymentOut.model_validate(payment)
