"""Payments in: bank statement credits, their allocations, instalment status.

- `payments`: one row per booked credit, unique by the bank's transaction id,
  matched to a claim by the import or assigned by an agent, or unmatched.
- `payment_allocations`: money of a payment that went to one claim: to its part
  of an instalment, of a one-off promise, or to its balance.
- `instalments.status`: pending, kept or broken (set by the status sweep).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("instalments") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch.create_check_constraint(
            "ck_instalments_status", "status IN ('pending', 'kept', 'broken')"
        )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=140), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("remittance", sa.String(length=500), server_default="", nullable=False),
        sa.Column("payer", sa.String(length=140), nullable=True),
        sa.Column("claim_reference", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("match_reason", sa.String(length=40), nullable=False),
        sa.Column("candidates", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('matched', 'unmatched', 'assigned')", name="ck_payments_state"
        ),
        sa.CheckConstraint("amount > 0", name="ck_payments_amount"),
        sa.ForeignKeyConstraint(
            ["claim_reference"],
            ["claims.reference"],
            name="fk_payments_claim_reference_claims",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"], ["agents.id"], name="fk_payments_assigned_by_agents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint("transaction_id", name="uq_payments_transaction_id"),
    )
    op.create_index("ix_payments_booked_on", "payments", ["booked_on"])
    op.create_index("ix_payments_claim_reference", "payments", ["claim_reference"])
    op.create_index("ix_payments_state", "payments", ["state"])
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("claim_reference", sa.String(length=32), nullable=False),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("instalment_id", sa.Integer(), nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_payment_allocations_amount"),
        sa.CheckConstraint(
            "instalment_id IS NULL OR promise_id IS NOT NULL",
            name="ck_payment_allocations_target",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name="fk_payment_allocations_payment_id_payments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claim_reference"],
            ["claims.reference"],
            name="fk_payment_allocations_claim_reference_claims",
        ),
        sa.ForeignKeyConstraint(
            ["promise_id"], ["promises.id"], name="fk_payment_allocations_promise_id_promises"
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name="fk_payment_allocations_instalment_id_instalments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_allocations"),
    )
    for column in ("payment_id", "claim_reference", "promise_id", "instalment_id"):
        op.create_index(f"ix_payment_allocations_{column}", "payment_allocations", [column])


def downgrade() -> None:
    for column in ("payment_id", "claim_reference", "promise_id", "instalment_id"):
        op.drop_index(f"ix_payment_allocations_{column}", table_name="payment_allocations")
    op.drop_table("payment_allocations")
    for column in ("state", "claim_reference", "booked_on"):
        op.drop_index(f"ix_payments_{column}", table_name="payments")
    op.drop_table("payments")
    with op.batch_alter_table("instalments") as batch:
        batch.drop_constraint("ck_instalments_status", type_="check")
        batch.drop_column("status")
