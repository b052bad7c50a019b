"""The voice line's table: one row per phone call (Twilio's CallSid)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import UTCDateTime, utcnow


class VoiceCall(Base):
    """A call: its conversation, language, TwiML answer (for Twilio's retries) and end."""

    __tablename__ = "voice_calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The conversation's sender id, "voice:<CallSid>": one conversation per call.
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    # The caller's number (E.164) as Twilio gave it; never logged unmasked.
    caller: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2))
    # answered → transferred (to a person) → ended
    status: Mapped[str] = mapped_column(String(16), default="answered")
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    transferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))
