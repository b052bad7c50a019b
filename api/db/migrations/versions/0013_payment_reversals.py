"""Returned and reversed payments: `payment_reversals`, the payer's references, `reversed`.

A bank takes a booked credit back with a debit: a reversal (camt.053 `RvslInd`) or a
return naming the credit's EndToEndId or TxId (api/payments/reversal.py). To find the
credit, a payment keeps the payer's references (`end_to_end_id`, `tx_id`, indexed); a
payment taken back is `reversed`; `payment_reversals` holds each such debit once (by
its bank transaction id) with the payment it took back.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)
TIMESTAMP = sa.DateTime(timezone=True)
STATES = ("matched", "unmatched", "assigned")
REFERENCES = ("end_to_end_id", "tx_id")
# 0008 named it "ck_payments_state", which the naming convention prefixed once more.
OLD_STATE_CHECK = "ck_payments_ck_payments_state"


def _state_check(states: Sequence[str]) -> str:
    return f"state IN ({', '.join(repr(s) for s in states)})"


def upgrade() -> None:
    """Add the payer's references and the state `reversed`; create `payment_reversals`."""
    with op.batch_alter_table("payments") as batch:
        for column in REFERENCES:
            batch.add_column(sa.Column(column, sa.String(35), nullable=True))
        batch.drop_constraint(op.f(OLD_STATE_CHECK), type_="check")
        batch.create_check_constraint(
            op.f("ck_payments_state"), _state_check((*STATES, "reversed"))
        )
    for column in REFERENCES:
        op.create_index(f"ix_payments_{column}", "payments", [column])
    op.create_table(
        "payment_reversals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(140), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_reversals_amount")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name="fk_payment_reversals_payment_id_payments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_reversals"),
        sa.UniqueConstraint("transaction_id", name="uq_payment_reversals_transaction_id"),
        sa.UniqueConstraint("payment_id", name="uq_payment_reversals_payment_id"),
    )


def downgrade() -> None:
    """Drop the reversals; a reversed payment becomes unmatched again (its money is gone)."""
    op.drop_table("payment_reversals")
    for column in REFERENCES:
        op.drop_index(f"ix_payments_{column}", table_name="payments")
    op.execute("UPDATE payments SET state = 'unmatched' WHERE state = 'reversed'")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(op.f("ck_payments_state"), type_="check")
        batch.create_check_constraint(op.f(OLD_STATE_CHECK), _state_check(STATES))
        for column in REFERENCES:
            batch.drop_column(column)
