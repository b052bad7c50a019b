"""Dispute table."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import UTCDateTime, check_in, utcnow

DISPUTE_STATUSES: Final = ("open", "resolved")


class Dispute(Base):
    """A debtor's objection to a claim, recorded from a conversation."""

    __tablename__ = "disputes"
    __table_args__ = (CheckConstraint(check_in("status", DISPUTE_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_reference: Mapped[str] = mapped_column(ForeignKey("claims.reference"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    reason_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
