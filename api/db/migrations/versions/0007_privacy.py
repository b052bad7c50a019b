"""Data subject rights: privacy requests, erasures, anonymised transcripts.

- `privacy_requests`: a debtor's request in chat to see or erase their data, for an agent.
- `privacy_erasures`: each erasure carried out (pseudonym, when, forced, by whom).
- `whatsapp_suppressions`: an erased person's WhatsApp opt-out, as a keyed hash of the
  number (their contact row, keyed by the number, goes).
- `conversations.anonymised_at`: when the transcript was last anonymised.
- The audit log stays append-only, with one narrow exception: an erasure may replace
  a row's `conversation_id` with a pseudonym (`erased:…`) and scrub its `data`, once:
  only a row that names a conversation that is not a pseudonym already. The privacy
  domain's own rows (`privacy_…`) keep their data: only their conversation id may
  become a pseudonym. Every other column must stay as it was, and DELETE and TRUNCATE
  stay refused. Without it an erased WhatsApp debtor's phone number would live on in
  the conversation ids of the log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=True),
        sa.Column("claim_reference", sa.String(length=32), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("closed_by_agent_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('access', 'erasure')", name="ck_privacy_requests_kind"),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_privacy_requests_status"),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name="fk_privacy_requests_debtor_id_debtors"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_agent_id"],
            ["agents.id"],
            name="fk_privacy_requests_closed_by_agent_id_agents",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_requests"),
    )
    op.create_index("ix_privacy_requests_conversation_id", "privacy_requests", ["conversation_id"])
    op.create_index("ix_privacy_requests_debtor_id", "privacy_requests", ["debtor_id"])
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("erased_at", TIMESTAMP, nullable=False),
        sa.Column("forced", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name="fk_privacy_erasures_debtor_id_debtors"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_erasures"),
        sa.UniqueConstraint("pseudonym", name="uq_privacy_erasures_pseudonym"),
    )
    op.create_index("ix_privacy_erasures_debtor_id", "privacy_erasures", ["debtor_id"])
    op.create_table(
        "whatsapp_suppressions",
        sa.Column("number_hash", sa.String(length=64), nullable=False),
        sa.Column("opted_out_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("number_hash", name="pk_whatsapp_suppressions"),
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("anonymised_at", TIMESTAMP, nullable=True))
    _replace_audit_triggers(allow_pseudonyms=True)


def downgrade() -> None:
    _replace_audit_triggers(allow_pseudonyms=False)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("anonymised_at")
    op.drop_table("whatsapp_suppressions")
    op.drop_index("ix_privacy_erasures_debtor_id", table_name="privacy_erasures")
    op.drop_table("privacy_erasures")
    op.drop_index("ix_privacy_requests_debtor_id", table_name="privacy_requests")
    op.drop_index("ix_privacy_requests_conversation_id", table_name="privacy_requests")
    op.drop_table("privacy_requests")


# --- the audit log's triggers ---------------------------------------------------------

# What an erasure may change, once: the conversation id (to a pseudonym) and the data.
# A row without a conversation id, or one whose id is a pseudonym already, is never
# rewritten; the privacy domain's own rows (requests, erasures, exports opened) never
# change their data. Every test is NULL-safe: an unknown is a refusal.
_PSEUDONYMISATION = (
    "OLD.conversation_id IS NOT NULL "
    "AND substr(OLD.conversation_id, 1, 7) <> 'erased:' "
    "AND NEW.conversation_id IS NOT NULL "
    "AND substr(NEW.conversation_id, 1, 7) = 'erased:' "
    "AND (substr(OLD.kind, 1, 8) <> 'privacy_' OR NEW.data {same} OLD.data) "
    "AND NEW.id = OLD.id "
    "AND NEW.created_at {same} OLD.created_at "
    "AND NEW.kind {same} OLD.kind "
    "AND NEW.claim_reference {same} OLD.claim_reference "
    "AND NEW.reasons {same} OLD.reasons "
    "AND NEW.policy_version {same} OLD.policy_version"
)
_PG_PSEUDONYMISATION = """
        IF COALESCE(({condition}), FALSE)
        THEN
            RETURN NEW;
        END IF;
""".format(condition=_PSEUDONYMISATION.format(same="IS NOT DISTINCT FROM"))
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION quitt_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN{allowed}
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
_SQLITE_PSEUDONYMISATION = f"WHEN NOT COALESCE(({_PSEUDONYMISATION.format(same='IS')}), 0) "


def _replace_audit_triggers(*, allow_pseudonyms: bool) -> None:
    """Let the UPDATE trigger pass a pseudonymisation, or refuse every UPDATE again."""
    if op.get_bind().dialect.name == "postgresql":
        # The triggers call the function by name: replacing it is enough.
        allowed = _PG_PSEUDONYMISATION if allow_pseudonyms else "\n        NULL;"
        op.execute(_PG_FUNCTION.format(allowed=allowed))
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    when = _SQLITE_PSEUDONYMISATION if allow_pseudonyms else ""
    op.execute(
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        f"{when}BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (UPDATE refused)'); END"
    )
