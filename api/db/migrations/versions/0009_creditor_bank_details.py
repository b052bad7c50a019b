"""Creditors' bank details for the payment details of every confirmation (Pay now).

`creditors.iban`, `creditors.bic` and `creditors.account_holder`, all optional:
a creditor without them is paid through the agency's account from the settings
(`QUITT_AGENCY_IBAN`, `QUITT_AGENCY_BIC`, `QUITT_AGENCY_ACCOUNT_HOLDER`). The
import checks them (policy.bankdetails); the database only keeps them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three optional bank detail columns to creditors."""
    with op.batch_alter_table("creditors") as batch:
        batch.add_column(sa.Column("iban", sa.String(length=34), nullable=True))
        batch.add_column(sa.Column("bic", sa.String(length=11), nullable=True))
        batch.add_column(sa.Column("account_holder", sa.String(length=70), nullable=True))


def downgrade() -> None:
    """Drop the bank detail columns (the claims file still has them, for a re-import)."""
    with op.batch_alter_table("creditors") as batch:
        batch.drop_column("account_holder")
        batch.drop_column("bic")
        batch.drop_column("iban")
