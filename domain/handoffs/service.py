"""Handoffs: put a conversation in the agents' queue, at most once at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.conversations import service as conversation_service
from domain.db.columns import utcnow
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.handoffs.models import ACTIVE_STATES, HANDOFF_REASONS, HANDOFF_STATES, Handoff


def get(*, db_session: Session, handoff_id: int) -> Handoff | None:
    """Get a handoff by its id."""
    return db_session.get(Handoff, handoff_id)


def active_for(*, db_session: Session, conversation_id: str) -> Handoff | None:
    """Return the conversation's queued or assigned handoff, if any."""
    stmt = (
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.state.in_(ACTIVE_STATES))
        .order_by(Handoff.id.desc())
        .limit(1)
    )
    return db_session.scalar(stmt)


def open_handoff(
    *,
    db_session: Session,
    conversation_id: str,
    channel: str,
    reason: str,
    claim_reference: str | None = None,
    language: str | None = None,
    sentiment_trail: list[Any] | None = None,
    statement: dict[str, Any] | None = None,
) -> Handoff:
    """Queue the conversation for an agent; an already active handoff is returned as is.

    A statement for the agent goes on the new handoff, or on the active one if it has none.
    """
    if reason not in HANDOFF_REASONS:
        raise ValidationFailed(f"reason: unknown handoff reason {reason!r}")
    conversation = conversation_service.get_or_create(
        db_session=db_session, sender_id=conversation_id, channel=channel, language=language
    )
    active = active_for(db_session=db_session, conversation_id=conversation_id)
    if active is not None:
        if statement is not None and active.statement is None:
            active.statement = dict(statement)
        return active
    handoff = Handoff(
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        claim_reference=claim_reference or conversation.verified_claim_reference,
        language=language or conversation.language,
        sentiment_trail=list(sentiment_trail or []),
    )
    if statement is not None:
        # Set only when given: an unset JSON column stays SQL NULL (None would be JSON null).
        handoff.statement = dict(statement)
    db_session.add(handoff)
    conversation.state = "queued"
    db_session.flush()
    return handoff


def list_handoffs(*, db_session: Session, state: str | None = None) -> list[Handoff]:
    """List handoffs, oldest first, optionally in one state."""
    stmt = select(Handoff).order_by(Handoff.created_at, Handoff.id)
    if state is not None:
        if state not in HANDOFF_STATES:
            raise ValidationFailed(f"state: must be one of {HANDOFF_STATES}, not {state!r}")
        stmt = stmt.where(Handoff.state == state)
    return list(db_session.scalars(stmt))


def list_for_claim(*, db_session: Session, claim_reference: str) -> list[Handoff]:
    """List the handoffs about a claim, newest first."""
    stmt = (
        select(Handoff)
        .where(Handoff.claim_reference == claim_reference)
        .order_by(Handoff.created_at.desc(), Handoff.id.desc())
    )
    return list(db_session.scalars(stmt))


def _get_or_raise(*, db_session: Session, handoff_id: int) -> Handoff:
    """Get a handoff or raise NotFound."""
    handoff = db_session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} not found")
    return handoff


def assign(*, db_session: Session, handoff_id: int, agent_id: int) -> Handoff:
    """Give a queued handoff to an agent."""
    handoff = _get_or_raise(db_session=db_session, handoff_id=handoff_id)
    if handoff.state == "closed":
        raise Conflict(f"handoff {handoff_id} is closed")
    if handoff.state == "assigned" and handoff.assigned_agent_id != agent_id:
        raise Conflict(f"handoff {handoff_id} is held by another agent")
    handoff.state = "assigned"
    handoff.assigned_agent_id = agent_id
    conversation_service.set_state(
        db_session=db_session, sender_id=handoff.conversation_id, state="assigned"
    )
    return handoff


def close(
    *, db_session: Session, handoff_id: int, outcome: str | None = None, back_to_bot: bool = True
) -> Handoff:
    """Close a handoff; the conversation goes back to the bot unless told otherwise."""
    handoff = _get_or_raise(db_session=db_session, handoff_id=handoff_id)
    if handoff.state == "closed":
        return handoff
    handoff.state = "closed"
    handoff.closed_at = utcnow()
    handoff.outcome = outcome
    conversation_service.set_state(
        db_session=db_session,
        sender_id=handoff.conversation_id,
        state="bot" if back_to_bot else "closed",
    )
    return handoff


def add_sentiment(*, db_session: Session, handoff_id: int, entry: dict[str, Any]) -> Handoff:
    """Append one sentiment reading to the handoff's trail."""
    handoff = _get_or_raise(db_session=db_session, handoff_id=handoff_id)
    # Reassign, so the JSON column sees the change.
    handoff.sentiment_trail = [*handoff.sentiment_trail, entry]
    db_session.flush()
    return handoff
