"""The reminders outbox and the debtors' opt-outs of reminders.

`reminders` holds one row per reminder (its `key` is unique: a reminder exists once),
planned from the promises when its moment comes and swept until it is sent, skipped
or has failed. Its state is in the database, so a restart loses nothing. No address
and no text are stored: both are read and rendered when the reminder goes out, so
an erasure or a changed e-mail address is respected, and the table holds nothing an
erasure would have to find.

States: `pending` (waiting for `next_attempt_at`), `sending` (claimed by one sweeper;
`send_started_at` set once the message is handed to the provider), `sent`,
`skipped` (the rules said never: opted out, paid, too late …), `failed` (refused
by the provider, out of attempts, or an outcome lost in a crash: never sent twice).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.db import Base
from domain.db.columns import JSONType, UTCDateTime, check_in, utcnow
from policy.reminders import CHANNELS, KINDS

REMINDER_STATES: Final = ("pending", "sending", "sent", "skipped", "failed")
FINAL_STATES: Final = ("sent", "skipped", "failed")


class Reminder(Base):
    """One planned reminder of one payment of a promise."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(check_in("kind", KINDS), name="kind"),
        CheckConstraint(check_in("state", REMINDER_STATES), name="state"),
        CheckConstraint(f"channel IS NULL OR {check_in('channel', CHANNELS)}", name="channel"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The sweepers' query: pending rows whose time has come, oldest first.
        Index("ix_reminders_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "before_due:<promise id>:<instalment number or 0>" (policy.reminders.reminder_key).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    promise_id: Mapped[int] = mapped_column(
        ForeignKey("promises.id", ondelete="CASCADE"), index=True
    )
    instalment_id: Mapped[int | None] = mapped_column(
        ForeignKey("instalments.id", ondelete="CASCADE")
    )
    instalment_number: Mapped[int | None] = mapped_column(Integer)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    payment_due_date: Mapped[date] = mapped_column(Date)
    # The planned moment, and when a sweeper may try next (later after a deferral).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    channel: Mapped[str | None] = mapped_column(String(16))
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The provider's id of the message: Twilio's message sid, or the e-mail's Message-ID.
    external_id: Mapped[str | None] = mapped_column(String(255))
    # The reasons of the last decision (why it waits, or why it was skipped).
    reasons: Mapped[list[str] | None] = mapped_column(JSONType)
    # A code, never a provider's message text (those may quote the phone number).
    last_error: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"Reminder(id={self.id!r}, key={self.key!r}, state={self.state!r})"


class ReminderOptOut(Base):
    """A debtor who wants no more reminders (an e-mail's unsubscribe link, an SMS STOP).

    A WhatsApp STOP is kept where the channel keeps it (`whatsapp_contacts`) and counts
    as well; so does this row for every channel: after an opt-out anywhere, no reminder
    goes anywhere.
    """

    __tablename__ = "reminder_opt_outs"

    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
