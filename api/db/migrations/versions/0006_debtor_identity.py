"""Debtors are no longer unique by name and date of birth; the creditor's own id joins them.

Two people may share a name and a birthday. The import now keeps them apart
unless a further fact agrees (api/claims/identity.py), so the unique constraint
`uq_debtors_name_date_of_birth` goes; a plain index on the same columns keeps
the import's look-up fast. `external_id` is the creditor's own id of the debtor
(optional in claims files), indexed for look-ups by it.

Going down restores the unique constraint, which is only possible while no two
debtors share a name and date of birth: merging them would join strangers, so
the downgrade refuses instead and says why.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop the unique key, index name and date of birth, add `external_id`."""
    with op.batch_alter_table("debtors") as batch:
        batch.drop_constraint("uq_debtors_name_date_of_birth", type_="unique")
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.create_index("ix_debtors_name_date_of_birth", ["name", "date_of_birth"])
        batch.create_index(op.f("ix_debtors_external_id"), ["external_id"])


def downgrade() -> None:
    """Restore the unique key of name and date of birth (refused while two debtors share it)."""
    pairs = sa.text(
        "SELECT count(*) FROM (SELECT name, date_of_birth FROM debtors "
        "GROUP BY name, date_of_birth HAVING count(*) > 1) AS shared"
    )
    shared = op.get_bind().execute(pairs).scalar()
    if shared:
        raise RuntimeError(
            f"cannot downgrade below 0006: {shared} name and date of birth pair(s) belong to "
            "more than one debtor; merging them could join different people"
        )
    with op.batch_alter_table("debtors") as batch:
        batch.drop_index(op.f("ix_debtors_external_id"))
        batch.drop_index("ix_debtors_name_date_of_birth")
        batch.drop_column("external_id")
        batch.create_unique_constraint("uq_debtors_name_date_of_birth", ["name", "date_of_birth"])
