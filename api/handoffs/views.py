"""`GET /api/handoffs` for the console."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep
from domain.handoffs import service as handoff_service
from domain.handoffs.schemas import HandoffOut

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])


@router.get("")
def list_handoffs(
    db_session: SessionDep,
    _agent: CurrentAgent,
    state: Literal["queued", "assigned", "closed"] | None = None,
) -> list[HandoffOut]:
    """List escalated conversations, optionally in one state."""
    handoffs = handoff_service.list_handoffs(db_session=db_session, state=state)
    return [HandoffOut.model_validate(h) for h in handoffs]
