"""Privacy requests made in chat: recorded for an agent, listed, and marked done.

A request is back-office work with a deadline (one month, Art. 12(3)), not a live
conversation: the bot goes on helping while the request waits, so it is a record
for agents rather than a handoff, which would silence the bot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.conversations import service as conversations_service
from domain.db.columns import utcnow
from domain.errors import Conflict, NotFound
from domain.privacy.models import REQUEST_KINDS, REQUEST_STATUSES, PrivacyRequest

# GDPR Art. 12(3): a request is answered within one month of receipt.
ANSWER_WITHIN: Final = timedelta(days=30)
RECORDED: Final = "privacy_request_recorded"
DONE: Final = "privacy_request_done"


def record(
    *,
    db_session: Session,
    kind: str,
    conversation_id: str,
    channel: str,
    language: str,
    now: datetime | None = None,
) -> PrivacyRequest:
    """Record a request (once per conversation and kind while open), audited."""
    if kind not in REQUEST_KINDS:
        raise ValueError(f"unknown privacy request kind {kind!r}")
    existing = db_session.scalar(
        select(PrivacyRequest).where(
            PrivacyRequest.conversation_id == conversation_id,
            PrivacyRequest.kind == kind,
            PrivacyRequest.status == "open",
        )
    )
    if existing is not None:
        return existing
    now = now or utcnow()
    conversation = conversations_service.get_or_create(
        db_session=db_session, sender_id=conversation_id, channel=channel
    )
    verified = conversation.verified_claim_reference is not None
    request = PrivacyRequest(
        kind=kind,
        conversation_id=conversation_id,
        channel=channel,
        language=language,
        debtor_id=conversation.debtor_id if verified else None,
        claim_reference=conversation.verified_claim_reference,
        created_at=now,
        due_at=now + ANSWER_WITHIN,
    )
    db_session.add(request)
    db_session.flush()
    audit_service.record(
        db_session=db_session,
        kind=RECORDED,
        conversation_id=conversation_id,
        claim_reference=request.claim_reference,
        reasons=("art15_access" if kind == "access" else "art17_erasure",),
        data={"request_id": request.id, "kind": kind, "verified": verified},
    )
    return request


def list_requests(*, db_session: Session, status: str | None = None) -> list[PrivacyRequest]:
    """List requests, the one due first first, optionally in one status."""
    stmt = select(PrivacyRequest).order_by(PrivacyRequest.due_at, PrivacyRequest.id)
    if status is not None:
        if status not in REQUEST_STATUSES:
            raise ValueError(f"unknown privacy request status {status!r}")
        stmt = stmt.where(PrivacyRequest.status == status)
    return list(db_session.scalars(stmt))


def mark_done(
    *, db_session: Session, request_id: int, agent_id: int, now: datetime | None = None
) -> PrivacyRequest:
    """Mark a request answered by an agent, audited."""
    request = db_session.get(PrivacyRequest, request_id)
    if request is None:
        raise NotFound(f"privacy request {request_id} not found")
    if request.status == "done":
        raise Conflict(f"privacy request {request_id} is done already")
    request.status = "done"
    request.closed_at = now or utcnow()
    request.closed_by_agent_id = agent_id
    audit_service.record(
        db_session=db_session,
        kind=DONE,
        conversation_id=request.conversation_id,
        claim_reference=request.claim_reference,
        data={"request_id": request.id, "kind": request.kind, "agent_id": agent_id},
    )
    db_session.flush()
    return request
