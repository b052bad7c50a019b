"""Every channel hands debtor messages to `handle_inbound`; the answer comes back here too."""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.conversations import service as conversations_service
from api.conversations.models import Message
from api.db import session_scope
from api.dialogue.agents import message_view, take_undelivered
from api.events.bus import CONSOLE, EventBus
from api.handoffs import service as handoffs_service
from api.rasa.client import RasaClient
from policy.escalation import CRISIS_HELP, detect_triggers

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
# C0/C1 control characters except tab and newline; they carry nothing a debtor means.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Normalise a debtor message: NFC, no control characters, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


@dataclass(frozen=True)
class Inbound:
    """One debtor message as a channel received it."""

    sender: str
    channel: str
    text: str
    metadata: dict[str, Any]


class _SenderLocks:
    """One lock per conversation, so one debtor's messages are answered in order."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, sender: str) -> asyncio.Lock:
        lock = self._locks.get(sender)
        if lock is None:
            lock = self._locks[sender] = asyncio.Lock()
        return lock


sender_locks = _SenderLocks()


@dataclass(frozen=True)
class _Recorded:
    held: bool
    language: str | None
    message: dict[str, Any]
    agent_replies: list[dict[str, Any]]


def _record_inbound(db_session: Session, inbound: Inbound) -> _Recorded:
    """Store the message; tell whether a human holds the conversation; take agent replies."""
    conversation = conversations_service.get_or_create(
        db_session=db_session, sender_id=inbound.sender, channel=inbound.channel
    )
    message = conversations_service.add_message(
        db_session=db_session,
        sender_id=inbound.sender,
        direction="in",
        author="debtor",
        text=inbound.text,
    )
    held = handoffs_service.active_for(db_session=db_session, conversation_id=inbound.sender)
    replies = [
        message_view(m) for m in take_undelivered(db_session=db_session, sender_id=inbound.sender)
    ]
    return _Recorded(held is not None, conversation.language, message_view(message), replies)


def _record_outbound(
    db_session: Session, sender: str, replies: list[dict[str, Any]]
) -> list[Message]:
    stored = []
    for reply in replies:
        extra = {k: v for k, v in reply.items() if k in ("buttons", "custom", "image")}
        stored.append(
            conversations_service.add_message(
                db_session=db_session,
                sender_id=sender,
                direction="out",
                author="bot",
                text=str(reply.get("text") or ""),
                data=extra or None,
            )
        )
    return stored


def agent_turns(sender: str, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return agent replies in Rasa's REST-channel shape, marked as coming from a person."""
    return [
        {"recipient_id": sender, "text": r["text"], "custom": {"author": "agent"}} for r in replies
    ]


async def handle_inbound(
    inbound: Inbound, *, rasa: RasaClient, bus: EventBus
) -> list[dict[str, Any]]:
    """Record the message and, unless a human holds the conversation, answer through Rasa.

    Agent replies the debtor has not seen yet come first in the answer.
    """

    def record() -> _Recorded:
        with session_scope() as db_session:
            return _record_inbound(db_session, inbound)

    async with sender_locks(inbound.sender):
        recorded = await asyncio.to_thread(record)
        await bus.publish(CONSOLE, {"type": "message", **recorded.message})
        waiting = agent_turns(inbound.sender, recorded.agent_replies)
        if recorded.held:
            # An agent has the conversation: the bot stays silent, the console sees it.
            # Only a crisis cue is answered at once, with crisis help.
            if any(t.reason == "crisis" for t in detect_triggers(inbound.text)):
                help_text = CRISIS_HELP.get(recorded.language or "de", CRISIS_HELP["de"])
                crisis = [{"recipient_id": inbound.sender, "text": help_text}]
                await _store_and_publish(inbound.sender, crisis, bus)
                await bus.publish(
                    CONSOLE,
                    {"type": "alert", "reason": "crisis", "conversation_id": inbound.sender},
                )
                return waiting + crisis
            return waiting
        metadata = {**inbound.metadata, "channel": inbound.channel}
        if recorded.language and "language" not in metadata:
            metadata["language"] = recorded.language
        replies = await rasa.send(sender=inbound.sender, text=inbound.text, metadata=metadata)
        await _store_and_publish(inbound.sender, replies, bus)
        return waiting + replies


async def _store_and_publish(sender: str, replies: list[dict[str, Any]], bus: EventBus) -> None:
    """Put bot turns in the transcript and show them in the console."""

    def store() -> list[dict[str, Any]]:
        with session_scope() as db_session:
            return [message_view(m) for m in _record_outbound(db_session, sender, replies)]

    for view in await asyncio.to_thread(store):
        await bus.publish(CONSOLE, {"type": "message", **view})
