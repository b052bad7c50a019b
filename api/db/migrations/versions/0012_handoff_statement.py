"""A handoff may carry a statement the bot attached for the agent.

The affordability check (policy/affordability.py) hands off with reason `policy_limit`
when what a debtor can afford is below the creditor's smallest instalment. The agent
needs what the debtor said (net income, outgoings by kind, what is left, dependants)
and the protected income under § 850c ZPO with its table date: `handoffs.statement`,
a JSON document, NULL for every other handoff. It is personal data: exports carry it,
erasure and transcript retention blank it, as they blank the handoff's outcome.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add the nullable `statement` column."""
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("statement", JSON, nullable=True))


def downgrade() -> None:
    """Drop the `statement` column."""
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("statement")
