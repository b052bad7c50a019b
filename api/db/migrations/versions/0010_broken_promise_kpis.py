"""The handoff reason `broken_promise`, and indexes for the KPIs' periods.

CONTRACT §4: a second broken promise on the same claim hands the conversation to an
agent with reason `broken_promise`, which the handoffs' check constraint must allow.
`GET /api/kpis` picks messages, promises and handoffs by their `created_at` within a
period; an index on each keeps that from reading whole tables.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-11
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
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
)
INDEXED = ("messages", "promises", "handoffs")


def _reason_check(reasons: Sequence[str]) -> str:
    return f"reason IN ({', '.join(repr(r) for r in reasons)})"


def upgrade() -> None:
    """Allow `broken_promise` as a handoff reason; index the KPIs' timestamps."""
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("ck_handoffs_reason"), type_="check")
        batch.create_check_constraint(
            op.f("ck_handoffs_reason"), _reason_check((*REASONS, "broken_promise"))
        )
    for table in INDEXED:
        op.create_index(f"ix_{table}_created_at", table, ["created_at"])


def downgrade() -> None:
    """Drop the indexes; handoffs for a broken promise become `policy_limit` ones."""
    for table in INDEXED:
        op.drop_index(f"ix_{table}_created_at", table_name=table)
    op.execute("UPDATE handoffs SET reason = 'policy_limit' WHERE reason = 'broken_promise'")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("ck_handoffs_reason"), type_="check")
        batch.create_check_constraint(op.f("ck_handoffs_reason"), _reason_check(REASONS))
