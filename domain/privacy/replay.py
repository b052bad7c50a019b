"""Which turns of a conversation may be shown again to whoever holds its session.

A web chat client without storage asks for the recent transcript (`history: true`,
api.channels.socketio). The bot's turns carry what only the verified person may
see (amounts, the IBAN), and the session id is all it takes to ask. So the replay
goes no further back than an identity check lasts (the default policy's
`verification_ttl_minutes`), and only while the conversation is verified at all:
once identity has expired, `verified_claim_reference` is cleared and nothing is
replayed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.config import get_settings
from domain.conversations.models import Conversation, Message
from domain.db.columns import utcnow
from policy.config import DEFAULT_NAME, PolicyBook, load_policies


@lru_cache(maxsize=2)
def _policies(path: Path) -> PolicyBook:
    """Load the creditor policies once per file."""
    return load_policies(path)


def replay_window(book: PolicyBook | None = None) -> timedelta:
    """Return how far back a replay may go: as long as an identity check holds."""
    book = book or _policies(Path(get_settings().policy_file))
    return timedelta(minutes=book.get(DEFAULT_NAME).verification_ttl_minutes)


def replayable_turns(
    *,
    db_session: Session,
    sender_id: str,
    limit: int,
    now: datetime | None = None,
    book: PolicyBook | None = None,
) -> list[Message]:
    """Return the latest `limit` messages that may be replayed, oldest first.

    None unless the conversation is verified now, and none older than the window.
    """
    conversation = db_session.get(Conversation, sender_id)
    if conversation is None or conversation.verified_claim_reference is None:
        return []
    since = (now or utcnow()) - replay_window(book)
    latest = db_session.scalars(
        select(Message)
        .where(Message.conversation_id == sender_id, Message.created_at >= since)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(latest)[::-1]
