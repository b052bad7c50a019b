"""A message's conversation state: read once before Rasa's turn, written once after it.

Two units of work per message, not one: Rasa's turn runs between them, and the
action server writes the same conversation meanwhile (verification, language,
handoffs). A transaction held open across that turn would hold the
conversation's row (touched by the debtor's message) against the action server.
So `begin` stores the debtor's message and reads what the pipeline needs (the
handoff, agent replies waiting, the mood window) in one unit; `finish` stores
the bot's turns and brings an open handoff's mood trail up to date in another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.dialogue.agents import mark_delivered, message_view
from domain.conversations import service as conversations_service
from domain.conversations.models import Message
from domain.handoffs import service as handoffs_service
from domain.handoffs.models import Handoff

# How many of the debtor's latest readings the escalation rules look at.
TREND_MESSAGES = 5
# A reading of a one- or two-word message ("Hallo", "nein") says little about mood;
# it counts as evidence only when it is very sure ("Ihr Abzocker!!!").
SHORT_MESSAGE_WORDS = 3
SHORT_MESSAGE_MIN_SCORE = 0.9
# The transcript window read once per message: enough turns to hold the trend.
WINDOW_MESSAGES = TREND_MESSAGES * 3
_REPLY_FIELDS = ("buttons", "custom", "image")


@dataclass(frozen=True)
class Turn:
    """What the pipeline knows of the conversation once the debtor's message is stored."""

    held: bool
    closed: bool
    language: str | None
    message: dict[str, Any]
    agent_replies: list[dict[str, Any]]
    readings: list[tuple[str, float]]


def readings(window: list[Message]) -> list[tuple[str, float]]:
    """Return the sentiment readings of the debtor's latest messages, oldest first."""
    found = []
    for message in window:
        sentiment = (message.data or {}).get("sentiment")
        if message.author != "debtor" or not sentiment:
            continue
        score = float(sentiment["score"])
        if len(message.text.split()) >= SHORT_MESSAGE_WORDS or score >= SHORT_MESSAGE_MIN_SCORE:
            found.append((str(sentiment["label"]), score))
    return found[-TREND_MESSAGES:]


def _sync_trail(db_session: Session, handoff: Handoff, transcript: list[Message]) -> None:
    """Give an open handoff the whole mood trail of its conversation."""
    trail = [
        {**(m.data or {})["sentiment"], "message_id": m.id, "at": m.created_at.isoformat()}
        for m in transcript
        if m.author == "debtor" and (m.data or {}).get("sentiment")
    ]
    if trail != handoff.sentiment_trail:
        handoff.sentiment_trail = trail
        db_session.flush()


def begin(
    db_session: Session,
    *,
    sender: str,
    channel: str,
    text: str,
    sentiment: dict[str, Any] | None,
) -> Turn:
    """Store the debtor's message; read the handoff, waiting agent replies and mood window."""
    conversation = conversations_service.get_or_create(
        db_session=db_session, sender_id=sender, channel=channel
    )
    message = conversations_service.add_message(
        db_session=db_session,
        sender_id=sender,
        direction="in",
        author="debtor",
        text=text,
        data={"sentiment": sentiment} if sentiment else None,
    )
    handoff = handoffs_service.active_for(db_session=db_session, conversation_id=sender)
    if handoff is None:
        # The mood window and the agent replies waiting for the debtor, in one read.
        recent, pending = conversations_service.window(
            db_session=db_session, sender_id=sender, limit=WINDOW_MESSAGES
        )
    else:
        # The handoff's trail needs the whole transcript; the window and replies are in it.
        whole = conversations_service.transcript(db_session=db_session, sender_id=sender)
        _sync_trail(db_session, handoff, whole)
        recent = whole[-WINDOW_MESSAGES:]
        pending = [m for m in whole if m.author == "agent" and m.delivered_at is None]
    replies = [message_view(m) for m in mark_delivered(db_session=db_session, pending=pending)]
    closed = handoff is None and conversation.state == "closed"
    if closed:
        # An agent closed the case; a new message starts over with the bot.
        conversations_service.set_state(db_session=db_session, sender_id=sender, state="bot")
    return Turn(
        held=handoff is not None,
        closed=closed,
        language=conversation.language,
        message=message_view(message),
        agent_replies=replies,
        readings=readings(recent),
    )


def finish(db_session: Session, *, sender: str, replies: list[dict[str, Any]]) -> list[Message]:
    """Store the bot's turns in one write; an open handoff (perhaps just opened) gets the trail."""
    stored = conversations_service.add_messages(
        db_session=db_session,
        sender_id=sender,
        direction="out",
        author="bot",
        turns=[
            (
                str(reply.get("text") or ""),
                {k: v for k, v in reply.items() if k in _REPLY_FIELDS} or None,
            )
            for reply in replies
        ],
    )
    # The action server may have opened a handoff during Rasa's turn: read it now.
    handoff = handoffs_service.active_for(db_session=db_session, conversation_id=sender)
    if handoff is not None:
        whole = conversations_service.transcript(db_session=db_session, sender_id=sender)
        _sync_trail(db_session, handoff, whole)
    return stored
