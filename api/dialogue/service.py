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
from api.db import session_scope
from api.handoffs import service as handoffs_service
from api.rasa.client import RasaClient

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


def _record_inbound(db_session: Session, message: Inbound) -> tuple[bool, str | None]:
    """Store the message; return whether a human holds the conversation, and its language."""
    conversation = conversations_service.get_or_create(
        db_session=db_session, sender_id=message.sender, channel=message.channel
    )
    conversations_service.add_message(
        db_session=db_session,
        sender_id=message.sender,
        direction="in",
        author="debtor",
        text=message.text,
    )
    held = handoffs_service.active_for(db_session=db_session, conversation_id=message.sender)
    return held is not None, conversation.language


def _record_outbound(db_session: Session, sender: str, replies: list[dict[str, Any]]) -> None:
    for reply in replies:
        extra = {k: v for k, v in reply.items() if k in ("buttons", "custom", "image")}
        conversations_service.add_message(
            db_session=db_session,
            sender_id=sender,
            direction="out",
            author="bot",
            text=str(reply.get("text") or ""),
            data=extra or None,
        )


async def handle_inbound(message: Inbound, *, rasa: RasaClient) -> list[dict[str, Any]]:
    """Record the message and, unless a human holds the conversation, answer through Rasa."""

    def record() -> tuple[bool, str | None]:
        with session_scope() as db_session:
            return _record_inbound(db_session, message)

    async with sender_locks(message.sender):
        held, language = await asyncio.to_thread(record)
        if held:
            # An agent has the conversation: the bot stays silent, the console sees it.
            return []
        metadata = {**message.metadata, "channel": message.channel}
        if language and "language" not in metadata:
            metadata["language"] = language
        replies = await rasa.send(sender=message.sender, text=message.text, metadata=metadata)

        def store() -> None:
            with session_scope() as db_session:
                _record_outbound(db_session, message.sender, replies)

        await asyncio.to_thread(store)
        return replies
