"""Handoff table."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import JSONType, UTCDateTime, check_in, utcnow

# CONTRACT §3: the only handoff reasons.
HANDOFF_REASONS: Final = (
    "human_request",
    "negative_sentiment",
    "dispute",
    "insolvency",
    "bereavement",
    "vulnerability",
    "crisis",
    "verification_locked",
    "policy_limit",
    "bot_failure",
    "broken_promise",
)
HANDOFF_STATES: Final = ("queued", "assigned", "closed")
ACTIVE_STATES: Final = ("queued", "assigned")


class Handoff(Base):
    """A conversation waiting for, or held by, a human agent."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(check_in("reason", HANDOFF_REASONS), name="reason"),
        CheckConstraint(check_in("state", HANDOFF_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.sender_id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    claim_reference: Mapped[str | None] = mapped_column(ForeignKey("claims.reference"), index=True)
    language: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    sentiment_trail: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # What the bot attached for the agent (the affordability statement of a
    # `policy_limit` handoff, policy/affordability.py); personal data, NULL otherwise.
    statement: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class HandoffNote(Base):
    """An agent's private note on a handoff; never shown to the debtor."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
