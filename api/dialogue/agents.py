"""What agents do to a conversation: take it, write to the debtor, hand it back, close it.

The console's HTTP and WebSocket layer calls these; they keep the database the
source of truth and announce every change on the event bus.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.events.bus import CONSOLE, EventBus, conversation_topic
from api.rasa.client import RasaClient
from domain.audit import service as audit_service
from domain.conversations import service as conversations_service
from domain.conversations.models import Message
from domain.db import session_scope
from domain.db.columns import utcnow
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.handoffs import service as handoffs_service
from domain.handoffs.models import Handoff, HandoffNote

MAX_AGENT_TEXT = 4000
# The bot takes a conversation back listening, with nothing pending from before.
RESUME_EVENTS: list[dict[str, Any]] = [
    {"event": "slot", "name": name, "value": value}
    for name, value in (
        ("handed_off", False),
        ("awaiting", None),
        ("pending_offer", None),
        ("counter_offers", 0.0),
    )
]


@dataclass(frozen=True)
class Acting:
    """The agent acting in the console."""

    id: int
    role: str

    @property
    def supervisor(self) -> bool:
        """Tell whether the agent sees and may act on every queue."""
        return self.role == "supervisor"


def message_view(message: Message) -> dict[str, Any]:
    """Return a transcript line as the console shows it."""
    data = message.data or {}
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "buttons": data.get("buttons"),
        "sentiment": data.get("sentiment"),
        "agent_id": message.agent_id,
        "created_at": message.created_at.isoformat(),
        # A bot turn's image: a confirmation's EPC QR code (api/paydetails).
        **({"image": data["image"]} if isinstance(data.get("image"), str) else {}),
    }


def _handoff(db_session: Session, handoff_id: int) -> Handoff:
    handoff = handoffs_service.get(db_session=db_session, handoff_id=handoff_id)
    if handoff is None:
        raise NotFound(f"handoff {handoff_id} not found")
    return handoff


def _must_hold(handoff: Handoff, agent: Acting) -> None:
    if handoff.state != "assigned":
        raise Conflict(f"handoff {handoff.id} is {handoff.state}, not assigned")
    if handoff.assigned_agent_id != agent.id and not agent.supervisor:
        raise Forbidden(f"handoff {handoff.id} is held by another agent")


def _audit(db_session: Session, kind: str, handoff: Handoff, agent: Acting, **data: Any) -> None:
    """Write an agent's action on a handoff to the audit log."""
    audit_service.record(
        db_session=db_session,
        kind=kind,
        conversation_id=handoff.conversation_id,
        claim_reference=handoff.claim_reference,
        data={"handoff_id": handoff.id, "agent_id": agent.id, **data},
    )


def _agent_text(text: str) -> str:
    """Return an agent's text trimmed, or refuse it when empty or too long."""
    text = text.strip()
    if not text or len(text) > MAX_AGENT_TEXT:
        raise ValidationFailed(f"text: must be 1 to {MAX_AGENT_TEXT} characters")
    return text


def handoff_event(kind: str, handoff: Handoff) -> dict[str, Any]:
    """Return a console event about a handoff's state."""
    return {
        "type": kind,
        "handoff_id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "state": handoff.state,
        "reason": handoff.reason,
        "assigned_agent_id": handoff.assigned_agent_id,
    }


async def take(*, bus: EventBus, handoff_id: int, agent: Acting) -> dict[str, Any]:
    """Assign a queued handoff to the agent; exactly one of two racing agents wins."""

    def work() -> dict[str, Any]:
        with session_scope() as db_session:
            # One conditional UPDATE: the database decides who was first.
            result = db_session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.state == "queued")
                .values(state="assigned", assigned_agent_id=agent.id)
            )
            taken = getattr(result, "rowcount", 0)
            handoff = _handoff(db_session, handoff_id)
            if not taken and handoff.assigned_agent_id != agent.id:
                raise Conflict(f"handoff {handoff_id} is {handoff.state}")
            conversations_service.set_state(
                db_session=db_session, sender_id=handoff.conversation_id, state="assigned"
            )
            _audit(db_session, "handoff_assigned", handoff, agent)
            return handoff_event("handoff_assigned", handoff)

    event = await asyncio.to_thread(work)
    await bus.publish(CONSOLE, event)
    return event


async def reply(*, bus: EventBus, handoff_id: int, agent: Acting, text: str) -> dict[str, Any]:
    """Write to the debtor on their channel as the agent holding the conversation."""
    text = _agent_text(text)

    def work() -> dict[str, Any]:
        with session_scope() as db_session:
            handoff = _handoff(db_session, handoff_id)
            _must_hold(handoff, agent)
            message = conversations_service.add_message(
                db_session=db_session,
                sender_id=handoff.conversation_id,
                direction="out",
                author="agent",
                text=text,
            )
            message.agent_id = agent.id
            db_session.flush()
            return message_view(message)

    view = await asyncio.to_thread(work)
    event = {"type": "message", **view}
    await bus.publish(CONSOLE, event)
    await bus.publish(conversation_topic(view["conversation_id"]), event)
    return view


async def note(*, bus: EventBus, handoff_id: int, agent: Acting, text: str) -> dict[str, Any]:
    """Add a private note to a handoff (agents only, never the debtor)."""
    text = _agent_text(text)

    def work() -> dict[str, Any]:
        with session_scope() as db_session:
            handoff = _handoff(db_session, handoff_id)
            row = HandoffNote(handoff_id=handoff.id, agent_id=agent.id, text=text)
            db_session.add(row)
            db_session.flush()
            return {
                "type": "note",
                "id": row.id,
                "handoff_id": handoff.id,
                "conversation_id": handoff.conversation_id,
                "agent_id": agent.id,
                "text": row.text,
                "created_at": row.created_at.isoformat(),
            }

    event = await asyncio.to_thread(work)
    await bus.publish(CONSOLE, event)
    return event


def notes(*, db_session: Session, handoff_id: int) -> list[dict[str, Any]]:
    """Return a handoff's private notes, oldest first."""
    rows = (
        db_session.query(HandoffNote)
        .filter(HandoffNote.handoff_id == handoff_id)
        .order_by(HandoffNote.id)
        .all()
    )
    return [
        {"id": n.id, "agent_id": n.agent_id, "text": n.text, "created_at": n.created_at.isoformat()}
        for n in rows
    ]


async def hand_back(
    *, bus: EventBus, rasa: RasaClient, handoff_id: int, agent: Acting
) -> dict[str, Any]:
    """Return the conversation to the bot, with the agent's turns in Rasa's history."""

    def load() -> tuple[str, list[str], datetime]:
        with session_scope() as db_session:
            handoff = _handoff(db_session, handoff_id)
            _must_hold(handoff, agent)
            agent_turns = [
                m.text
                for m in conversations_service.transcript(
                    db_session=db_session, sender_id=handoff.conversation_id
                )
                if m.author == "agent" and m.created_at >= handoff.created_at
            ]
            return handoff.conversation_id, agent_turns, handoff.created_at

    sender, agent_turns, _ = await asyncio.to_thread(load)
    events: list[dict[str, Any]] = [
        {"event": "bot", "text": t, "metadata": {"author": "agent"}} for t in agent_turns
    ]
    await rasa.append_events(sender=sender, events=events + RESUME_EVENTS)

    def close() -> dict[str, Any]:
        with session_scope() as db_session:
            handoff = handoffs_service.close(
                db_session=db_session,
                handoff_id=handoff_id,
                outcome="handed_back",
                back_to_bot=True,
            )
            _audit(db_session, "handoff_handed_back", handoff, agent)
            return handoff_event("handoff_closed", handoff)

    event = await asyncio.to_thread(close)
    await bus.publish(CONSOLE, event)
    return event


async def close(*, bus: EventBus, handoff_id: int, agent: Acting, outcome: str) -> dict[str, Any]:
    """Close a handoff with an outcome; the conversation stays with humans (closed)."""
    outcome = outcome.strip()
    if not outcome or len(outcome) > 500:
        raise ValidationFailed("outcome: must be 1 to 500 characters")

    def work() -> dict[str, Any]:
        with session_scope() as db_session:
            handoff = _handoff(db_session, handoff_id)
            _must_hold(handoff, agent)
            handoff = handoffs_service.close(
                db_session=db_session, handoff_id=handoff_id, outcome=outcome, back_to_bot=False
            )
            _audit(db_session, "handoff_closed", handoff, agent, outcome=outcome)
            return handoff_event("handoff_closed", handoff)

    event = await asyncio.to_thread(work)
    await bus.publish(CONSOLE, event)
    return event


def take_undelivered(*, db_session: Session, sender_id: str) -> list[Message]:
    """Return agent messages the debtor's channel has not taken yet, marking them taken."""
    pending = (
        db_session.query(Message)
        .filter(
            Message.conversation_id == sender_id,
            Message.author == "agent",
            Message.delivered_at.is_(None),
        )
        .order_by(Message.id)
        .all()
    )
    return mark_delivered(db_session=db_session, pending=pending)


def mark_delivered(*, db_session: Session, pending: list[Message]) -> list[Message]:
    """Mark undelivered agent messages taken; return those this gateway took.

    Each mark is a conditional UPDATE, so two gateways never both deliver one reply.
    """
    now = utcnow()
    taken = []
    for message in pending:
        result = db_session.execute(
            update(Message)
            .where(Message.id == message.id, Message.delivered_at.is_(None))
            .values(delivered_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            taken.append(message)
    return taken
