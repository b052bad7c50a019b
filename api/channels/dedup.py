"""Duplicate deliveries on the REST and web-chat channels: each debtor message is processed once.

Two rules:

- Named messages. A client that names its message (REST: `metadata.message_id` or
  the `Idempotency-Key` header; web chat: `message_id` in the frame or in
  `customData`) gets it processed once, across gateway processes: the name is
  kept in the `channel_events` table (the one WhatsApp uses for Twilio's
  MessageSid). A repeat gets the first answer again (REST) or nothing (web chat,
  whose answer already went to the session's sockets); while the first copy is
  still being answered, REST says 409. A copy whose process died is free again
  after `IN_FLIGHT`; a copy that failed is released at once, so its retry runs.
- Unnamed messages. The same text from the same conversation while the first
  copy is still being answered in this process is a duplicate: a double-clicked
  button, a widget sending a frame twice. It gets no answer (REST: `[]`). Once
  the answer is out, the same text is a new message (a second "ja" to the next
  question). This rule lives in the process on purpose: after a crash nothing
  stale remains, so a client's retry is never mistaken for a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.db.columns import utcnow
from domain.whatsapp.models import ChannelEvent

# Longer than the gateway's worst turn (sentiment, Rasa send and a follow-up intent).
IN_FLIGHT: Final = timedelta(seconds=75)
MAX_MESSAGE_ID_CHARS: Final = 128


@dataclass(frozen=True)
class Delivery:
    """One named inbound message as the dedup table knows it."""

    channel: str
    external_id: str

    @classmethod
    def of(cls, *, channel: str, sender: str, message_id: str) -> Delivery:
        """Name a delivery by its conversation and the client's message id (hashed)."""
        basis = f"{sender}\x00{message_id}".encode("utf-8", "surrogatepass")
        return cls(f"{channel}:id", hashlib.sha256(basis).hexdigest())


def claim(*, db_session: Session, delivery: Delivery, now: datetime | None = None) -> bool:
    """Take a named delivery for processing; False when it is a duplicate."""
    now = now or utcnow()
    try:
        with db_session.begin_nested():
            db_session.add(
                ChannelEvent(
                    channel=delivery.channel, external_id=delivery.external_id, received_at=now
                )
            )
            db_session.flush()
        return True
    except IntegrityError:
        pass
    # Seen before: take it over only if its first copy died unanswered (one atomic
    # UPDATE, so of two racing retries exactly one wins).
    result = db_session.execute(
        update(ChannelEvent)
        .where(
            ChannelEvent.channel == delivery.channel,
            ChannelEvent.external_id == delivery.external_id,
            ChannelEvent.response.is_(None),
            ChannelEvent.received_at < now - IN_FLIGHT,
        )
        .values(received_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def answered(*, db_session: Session, delivery: Delivery, response: str) -> None:
    """Keep the answer of a processed delivery, for its repeats."""
    db_session.execute(
        update(ChannelEvent)
        .where(
            ChannelEvent.channel == delivery.channel,
            ChannelEvent.external_id == delivery.external_id,
        )
        .values(response=response)
    )


def answer_of(*, db_session: Session, delivery: Delivery) -> str | None:
    """Return the stored answer of a delivery (None while it is being processed)."""
    return db_session.scalar(
        select(ChannelEvent.response).where(
            ChannelEvent.channel == delivery.channel,
            ChannelEvent.external_id == delivery.external_id,
        )
    )


def release(*, db_session: Session, delivery: Delivery) -> None:
    """Forget a delivery whose processing failed, so that a retry is processed."""
    db_session.execute(
        delete(ChannelEvent).where(
            ChannelEvent.channel == delivery.channel,
            ChannelEvent.external_id == delivery.external_id,
            ChannelEvent.response.is_(None),
        )
    )


@dataclass
class InFlight:
    """The unnamed messages this process is answering right now, by conversation and text."""

    _busy: set[tuple[str, str]] = field(default_factory=set)

    @contextmanager
    def hold(self, sender: str, text: str) -> Iterator[bool]:
        """Yield True for the first copy (held until the block ends), False for a duplicate."""
        key = (sender, text)
        if key in self._busy:
            yield False
            return
        self._busy.add(key)
        try:
            yield True
        finally:
            self._busy.discard(key)


# One per process: the rule is about copies this process is answering.
IN_FLIGHT_MESSAGES: Final = InFlight()
