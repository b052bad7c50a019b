"""What the console reads: the visible queue, one handoff in full, canned replies.

Who may see which handoff is `access`.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.dialogue.agents import Acting, message_view, notes
from domain import casefile
from domain.claims import service as claim_service
from domain.conversations import service as conversation_service
from domain.conversations.models import Message
from domain.db.columns import utcnow
from domain.errors import ValidationFailed
from domain.handoffs import service as handoff_service
from domain.handoffs.models import ACTIVE_STATES, Handoff

from . import attachments as console_attachments
from . import whatsapp as whatsapp_console
from .access import can_see, visible_handoff
from .schemas import (
    CannedReplyOut,
    ClaimSummaryOut,
    HandoffDetailOut,
    HandoffOut,
    MessageOut,
    NoteOut,
    QueueItemOut,
)

CANNED_FILE = Path(__file__).with_name("canned.yml")
LANGUAGES = ("de", "en")
# How far back the queue looks for the debtor's latest sentiment reading.
SENTIMENT_LOOKBACK = 20


def _waiting_seconds(handoff: Handoff, now: datetime) -> int:
    """Return how long the handoff has waited (until it was closed, if it was)."""
    end = handoff.closed_at or now
    return max(0, int((end - handoff.created_at).total_seconds()))


def latest_sentiment(*, db_session: Session, conversation_id: str) -> dict[str, Any] | None:
    """Return the sentiment reading of the debtor's last message that has one."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.author == "debtor")
        .order_by(Message.id.desc())
        .limit(SENTIMENT_LOOKBACK)
    )
    for message in db_session.scalars(stmt):
        reading = (message.data or {}).get("sentiment")
        if isinstance(reading, dict):
            return reading
    return None


def queue(*, db_session: Session, agent: Acting, now: datetime | None = None) -> list[QueueItemOut]:
    """List the open handoffs the agent may see, longest waiting first."""
    now = now or utcnow()
    stmt = (
        select(Handoff)
        .where(Handoff.state.in_(ACTIVE_STATES))
        .order_by(Handoff.created_at, Handoff.id)
    )
    if not agent.supervisor:
        stmt = stmt.where(or_(Handoff.state == "queued", Handoff.assigned_agent_id == agent.id))
    items = []
    for handoff in db_session.scalars(stmt):
        conversation = conversation_service.get(
            db_session=db_session, sender_id=handoff.conversation_id
        )
        items.append(
            QueueItemOut(
                id=handoff.id,
                conversation_id=handoff.conversation_id,
                reason=handoff.reason,
                channel=handoff.channel,
                language=handoff.language or (conversation.language if conversation else None),
                state=handoff.state,
                assigned_agent_id=handoff.assigned_agent_id,
                created_at=handoff.created_at,
                waiting_seconds=_waiting_seconds(handoff, now),
                sentiment=latest_sentiment(
                    db_session=db_session, conversation_id=handoff.conversation_id
                ),
                claim_reference=handoff.claim_reference
                or (conversation.verified_claim_reference if conversation else None),
                last_message_at=conversation.last_message_at if conversation else None,
            )
        )
    return items


def claim_summary(*, db_session: Session, reference: str) -> ClaimSummaryOut | None:
    """Summarise a claim for the console, or None if it does not exist."""
    claim = claim_service.get_by_reference(db_session=db_session, reference=reference)
    if claim is None:
        return None
    return ClaimSummaryOut(
        reference=claim.reference,
        creditor=claim.creditor.name,
        debtor_name=claim.debtor.name,
        **casefile.figures(claim),
        promises=casefile.promises(db_session=db_session, reference=reference),
        disputes=casefile.disputes(db_session=db_session, reference=reference),
    )


def detail(
    *, db_session: Session, handoff_id: int, agent: Acting, now: datetime | None = None
) -> HandoffDetailOut:
    """Return a visible handoff with its transcript, notes and verified claim."""
    handoff = visible_handoff(db_session=db_session, handoff_id=handoff_id, agent=agent)
    conversation = conversation_service.get_or_raise(
        db_session=db_session, sender_id=handoff.conversation_id
    )
    reference = handoff.claim_reference or conversation.verified_claim_reference
    now = now or utcnow()
    return HandoffDetailOut(
        handoff=HandoffOut(
            id=handoff.id,
            conversation_id=handoff.conversation_id,
            reason=handoff.reason,
            channel=handoff.channel,
            language=handoff.language or conversation.language,
            state=handoff.state,
            assigned_agent_id=handoff.assigned_agent_id,
            created_at=handoff.created_at,
            closed_at=handoff.closed_at,
            outcome=handoff.outcome,
            waiting_seconds=_waiting_seconds(handoff, now),
            claim_reference=reference,
            sentiment_trail=list(handoff.sentiment_trail or []),
            statement=handoff.statement,
        ),
        conversation_state=conversation.state,
        transcript=[
            transcript_line(m)
            for m in conversation_service.transcript(
                db_session=db_session, sender_id=handoff.conversation_id
            )
        ],
        notes=[
            NoteOut.model_validate(n) for n in notes(db_session=db_session, handoff_id=handoff.id)
        ],
        claim=claim_summary(db_session=db_session, reference=reference) if reference else None,
        attachments=console_attachments.attachments(db_session=db_session, handoff=handoff),
        alerts=console_attachments.alerts(
            db_session=db_session, conversation_id=handoff.conversation_id
        ),
        whatsapp=whatsapp_console.state(
            db_session=db_session, handoff=handoff, conversation=conversation, now=now
        ),
    )


def transcript_line(message: Message) -> MessageOut:
    """Return a transcript line with the template it sent and the files it carried."""
    data = message.data or {}
    template = data.get("template")
    attachment_ids = data.get("attachments")
    return MessageOut.model_validate(
        {
            **message_view(message),
            "template": template if isinstance(template, dict) else None,
            "attachment_ids": attachment_ids if isinstance(attachment_ids, list) else None,
        }
    )


def event_visible(*, db_session: Session, event: dict[str, Any], agent: Acting) -> bool:
    """Tell whether a console event may go to this agent's socket.

    Handoff state changes go to everyone (they only move queue entries); messages
    and notes only to those who may see the conversation's open handoff.
    """
    if agent.supervisor or str(event.get("type", "")).startswith("handoff_"):
        return True
    handoff_id = event.get("handoff_id")
    if isinstance(handoff_id, int):
        handoff = handoff_service.get(db_session=db_session, handoff_id=handoff_id)
    else:
        conversation_id = event.get("conversation_id")
        if not isinstance(conversation_id, str):
            return False
        handoff = handoff_service.active_for(db_session=db_session, conversation_id=conversation_id)
    return handoff is not None and can_see(handoff, agent)


@lru_cache(maxsize=1)
def _canned() -> dict[str, list[CannedReplyOut]]:
    """Load the canned replies once, checking every language has a list."""
    data = yaml.safe_load(CANNED_FILE.read_text(encoding="utf-8")) or {}
    replies: dict[str, list[CannedReplyOut]] = {}
    for language in LANGUAGES:
        entries = data.get(language)
        if not isinstance(entries, list):
            raise ValueError(f"{CANNED_FILE.name}: no list of replies for {language!r}")
        replies[language] = [CannedReplyOut.model_validate(e) for e in entries]
    return replies


def canned(*, language: str) -> list[CannedReplyOut]:
    """Return the canned replies in one language."""
    if language not in LANGUAGES:
        raise ValidationFailed(f"language: must be one of {', '.join(LANGUAGES)}")
    return list(_canned()[language])
