"""Tables of the WhatsApp channel: processed Twilio events, contacts, attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import JSONType, UTCDateTime, utcnow


class ChannelEvent(Base):
    """One webhook event a channel has taken (Twilio's MessageSid), so retries run once."""

    __tablename__ = "channel_events"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The answer given the first time; a retry gets the very same answer.
    response: Mapped[str | None] = mapped_column(Text)


class WhatsAppContact(Base):
    """What the channel knows about one WhatsApp address (the conversation's sender id)."""

    __tablename__ = "whatsapp_contacts"

    address: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Our WhatsApp number the debtor last wrote to (`To`); agent replies go out from it.
    our_address: Mapped[str] = mapped_column(String(64))
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The numbered options of the last answer: [{"title", "payload"}, …].
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # Debtors whose phone number matches: a hint for agents, never a verification.
    debtor_hint_ids: Mapped[list[int] | None] = mapped_column(JSONType)


class Attachment(Base):
    """A file a debtor sent (photo of a transfer, a letter, a voice note) for an agent."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.sender_id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    media_url: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WhatsAppSuppression(Base):
    """An erased person's WhatsApp opt-out (STOP), kept without their number.

    The contact row (keyed by the number) goes with the erasure; this keeps only a
    keyed hash of the number (`domain.whatsapp.suppression`), so that a later claim with
    the same number starts opted out instead of messaging someone who said STOP.
    """

    __tablename__ = "whatsapp_suppressions"

    number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # When they said STOP (the contact's opted_out_at).
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
