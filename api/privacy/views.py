"""`/api/privacy`: people's exports and the privacy requests made in chat, for agents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep
from domain.errors import Forbidden
from domain.privacy import requests as requests_service
from domain.privacy.flows import open_export
from domain.privacy.schemas import PrivacyRequestOut

router = APIRouter(prefix="/api/privacy", tags=["privacy"])

# Row ids are 32-bit positive integers on every backend (as in the console API).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/export")
def read_export(
    db_session: SessionDep,
    agent: CurrentAgent,
    debtor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    reference: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    unmasked: bool = False,
) -> dict[str, Any]:
    """Open everything held about one person (by debtor id or a claim reference), audited.

    Identity data comes masked; a supervisor may ask for it unmasked, to hand the
    export to the person who asked for it.
    """
    if unmasked and agent.role != "supervisor":
        raise Forbidden("only a supervisor may open an unmasked export")
    return open_export(
        db_session=db_session,
        actor=f"agent:{agent.id}",
        debtor_id=debtor_id,
        reference=reference,
        masked=not unmasked,
    )


@router.get("/requests")
def list_requests(
    db_session: SessionDep,
    _agent: CurrentAgent,
    status: Literal["open", "done"] | None = None,
) -> list[PrivacyRequestOut]:
    """List the requests debtors made in chat to see or erase their data, due first."""
    found = requests_service.list_requests(db_session=db_session, status=status)
    return [PrivacyRequestOut.model_validate(r) for r in found]


@router.post("/requests/{request_id}/done")
def mark_done(request_id: RowId, db_session: SessionDep, agent: CurrentAgent) -> PrivacyRequestOut:
    """Mark a request answered."""
    request = requests_service.mark_done(
        db_session=db_session, request_id=request_id, agent_id=agent.id
    )
    return PrivacyRequestOut.model_validate(request)
