"""Each claim's part of a promise over several claims (CONTRACT §3).

`promise_claims` gains the claim's `amount` and `discount`, and `instalment_parts`
holds each claim's part of every instalment. Promises recorded before are split the
way new ones are (policy.allocation: pro rata by the claims' totals, oldest claim
first), so every claim shows its part whatever its age.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from policy.allocation import allocate_promise

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(12, 2)

promises = sa.table(
    "promises",
    sa.column("id", sa.Integer()),
    sa.column("amount", MONEY),
    sa.column("discount", MONEY),
)
promise_claims = sa.table(
    "promise_claims",
    sa.column("promise_id", sa.Integer()),
    sa.column("claim_reference", sa.String()),
    sa.column("amount", MONEY),
    sa.column("discount", MONEY),
)
claims = sa.table(
    "claims",
    sa.column("reference", sa.String()),
    sa.column("due_date", sa.Date()),
    sa.column("principal", MONEY),
    sa.column("interest", MONEY),
    sa.column("fees", MONEY),
)
instalments = sa.table(
    "instalments",
    sa.column("id", sa.Integer()),
    sa.column("promise_id", sa.Integer()),
    sa.column("number", sa.Integer()),
    sa.column("amount", MONEY),
)
instalment_parts = sa.table(
    "instalment_parts",
    sa.column("instalment_id", sa.Integer()),
    sa.column("claim_reference", sa.String()),
    sa.column("amount", MONEY),
)


def _split_recorded_promises() -> None:
    """Give every recorded promise its per-claim parts."""
    conn = op.get_bind()
    for promise in conn.execute(sa.select(promises)).all():
        covered = conn.execute(
            sa.select(claims.c.reference, claims.c.principal, claims.c.interest, claims.c.fees)
            .select_from(
                promise_claims.join(claims, claims.c.reference == promise_claims.c.claim_reference)
            )
            .where(promise_claims.c.promise_id == promise.id)
            .order_by(claims.c.due_date, claims.c.reference)
        ).all()
        if not covered:
            continue
        plan = conn.execute(
            sa.select(instalments.c.id, instalments.c.amount)
            .where(instalments.c.promise_id == promise.id)
            .order_by(instalments.c.number)
        ).all()
        values = [Decimal(row.amount) for row in plan]
        if values and sum(values) != Decimal(promise.amount):
            values = []  # an inconsistent old plan: its instalments stay unsplit
        shares = allocate_promise(
            amount=Decimal(promise.amount),
            discount=Decimal(promise.discount),
            balances=[
                Decimal(c.principal) + Decimal(c.interest) + Decimal(c.fees) for c in covered
            ],
            instalments=values,
        )
        for claim, share in zip(covered, shares, strict=True):
            conn.execute(
                promise_claims.update()
                .where(promise_claims.c.promise_id == promise.id)
                .where(promise_claims.c.claim_reference == claim.reference)
                .values(amount=share.amount, discount=share.discount)
            )
            rows = [
                {"instalment_id": row.id, "claim_reference": claim.reference, "amount": part}
                for row, part in zip(plan if values else [], share.instalments, strict=True)
                if part > 0
            ]
            if rows:
                conn.execute(instalment_parts.insert(), rows)


def upgrade() -> None:
    with op.batch_alter_table("promise_claims") as batch:
        batch.add_column(sa.Column("amount", MONEY, nullable=True))
        batch.add_column(sa.Column("discount", MONEY, nullable=True))
    op.create_table(
        "instalment_parts",
        sa.Column("instalment_id", sa.Integer(), nullable=False),
        sa.Column("claim_reference", sa.String(length=32), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_instalment_parts_amount"),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["instalments.id"],
            name="fk_instalment_parts_instalment_id_instalments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claim_reference"],
            ["claims.reference"],
            name="fk_instalment_parts_claim_reference_claims",
        ),
        sa.PrimaryKeyConstraint("instalment_id", "claim_reference", name="pk_instalment_parts"),
    )
    op.create_index("ix_instalment_parts_claim_reference", "instalment_parts", ["claim_reference"])
    _split_recorded_promises()
    with op.batch_alter_table("promise_claims") as batch:
        batch.alter_column("amount", existing_type=MONEY, nullable=False)
        batch.alter_column("discount", existing_type=MONEY, nullable=False)
        batch.create_check_constraint("ck_promise_claims_amounts", "amount >= 0 AND discount >= 0")


def downgrade() -> None:
    op.drop_index("ix_instalment_parts_claim_reference", table_name="instalment_parts")
    op.drop_table("instalment_parts")
    with op.batch_alter_table("promise_claims") as batch:
        batch.drop_constraint("ck_promise_claims_amounts", type_="check")
        batch.drop_column("discount")
        batch.drop_column("amount")
