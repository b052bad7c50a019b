"""Tables of the privacy domain: requests made in chat, erasures carried out, and the
WhatsApp opt-outs of erased people."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import JSONType, UTCDateTime, check_in, utcnow

REQUEST_KINDS: Final = ("access", "erasure")
REQUEST_STATUSES: Final = ("open", "done")


class PrivacyRequest(Base):
    """A debtor's request in chat to see (Art. 15) or erase (Art. 17) their data.

    Recorded for an agent, who answers it within a month (Art. 12(3)) after checking
    who asks; the message itself stays in the transcript, never here.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (
        CheckConstraint(check_in("kind", REQUEST_KINDS), name="kind"),
        CheckConstraint(check_in("status", REQUEST_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    # Plain strings, as on promises: the request outlives an erased transcript.
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2))
    # Known only when the conversation had verified who writes.
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    claim_reference: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class PrivacyErasure(Base):
    """One erasure of a person: their debtor row now holds only `pseudonym`."""

    __tablename__ = "privacy_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Erased although a claim was still open or a person held a conversation.
    forced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who asked: "cli" or "agent:<id>".
    actor: Mapped[str] = mapped_column(String(64))
    # What was anonymised, counted (no personal data).
    counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
