"""Reminders: the outbox of planned reminders and the debtors' opt-outs of them.

- `reminders`: one row per reminder (unique `key`: kind, promise, instalment), with
  its planned moment, when it may be tried next, its state (pending, sending, sent,
  skipped, failed), attempts, channel and the provider's message id. No address and
  no text: both are read when it goes out.
- `reminder_opt_outs`: debtors who asked for no more reminders (an e-mail's
  unsubscribe link, an SMS STOP); a WhatsApp STOP stays in `whatsapp_contacts`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-11
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create the outbox and the opt-outs."""
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=False),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("instalment_number", sa.Integer(), nullable=True),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("payment_due_date", sa.Date(), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("claimed_by", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("send_started_at", TIMESTAMP, nullable=True),
        sa.Column("sent_at", TIMESTAMP, nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("reasons", JSON, nullable=True),
        sa.Column("last_error", sa.String(length=100), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('before_due', 'after_miss')", name="ck_reminders_kind"),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'skipped', 'failed')",
            name="ck_reminders_state",
        ),
        sa.CheckConstraint(
            "channel IS NULL OR channel IN ('whatsapp', 'sms', 'email')",
            name="ck_reminders_channel",
        ),
        sa.CheckConstraint("attempts >= 0", name="ck_reminders_attempts"),
        sa.ForeignKeyConstraint(
            ["promise_id"],
            ["promises.id"],
            name="fk_reminders_promise_id_promises",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name="fk_reminders_instalment_id_instalments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name="fk_reminders_debtor_id_debtors"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
        sa.UniqueConstraint("key", name="uq_reminders_key"),
    )
    op.create_index("ix_reminders_promise_id", "reminders", ["promise_id"])
    op.create_index("ix_reminders_debtor_id", "reminders", ["debtor_id"])
    op.create_index("ix_reminders_state_next_attempt_at", "reminders", ["state", "next_attempt_at"])
    op.create_table(
        "reminder_opt_outs",
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("opted_out_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name="fk_reminder_opt_outs_debtor_id_debtors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("debtor_id", name="pk_reminder_opt_outs"),
    )


def downgrade() -> None:
    """Drop both tables (the audit log keeps what was sent and skipped)."""
    op.drop_table("reminder_opt_outs")
    for name in ("state_next_attempt_at", "debtor_id", "promise_id"):
        op.drop_index(f"ix_reminders_{name}", table_name="reminders")
    op.drop_table("reminders")
