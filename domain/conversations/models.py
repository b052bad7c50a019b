"""Conversation and Message tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.claims.models import LANGUAGES
from domain.db import Base
from domain.db.columns import JSONType, UTCDateTime, check_in, utcnow

CONVERSATION_STATES: Final = ("bot", "queued", "assigned", "closed")
DIRECTIONS: Final = ("in", "out")
AUTHORS: Final = ("debtor", "bot", "agent", "system")


class Conversation(Base):
    """One sender on one channel (web sender id, `whatsapp:+49…`, call)."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(check_in("state", CONVERSATION_STATES), name="state"),
        CheckConstraint(check_in("language", LANGUAGES), name="language"),
        CheckConstraint("failed_verifications >= 0", name="failed_verifications"),
    )

    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2), default="de", server_default="de")
    state: Mapped[str] = mapped_column(String(16), default="bot", server_default="bot")
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    verified_claim_reference: Mapped[str | None] = mapped_column(ForeignKey("claims.reference"))
    failed_verifications: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the transcript was last anonymised (api/privacy: erasure or retention).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id", viewonly=True
    )


class Message(Base):
    """One turn of the transcript, inbound or outbound."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(check_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint(check_in("author", AUTHORS), name="author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.sender_id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    author: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Agent replies wait here until the debtor's channel has taken them.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
