"""Initial schema, with the append-only triggers on audit_events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _create_tables()
    _protect_audit_log()


def _create_tables() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), server_default='agent', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('agent', 'supervisor')", name=op.f('ck_agents_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('email', name=op.f('uq_agents_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('claim_reference', sa.String(length=32), nullable=True),
    sa.Column('reasons', JSON, nullable=False),
    sa.Column('policy_version', sa.String(length=64), nullable=True),
    sa.Column('data', JSON, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_claim_reference'), 'audit_events', ['claim_reference'])
    op.create_index(op.f('ix_audit_events_conversation_id'), 'audit_events', ['conversation_id'])
    op.create_index(op.f('ix_audit_events_created_at'), 'audit_events', ['created_at'])
    op.create_index(op.f('ix_audit_events_kind'), 'audit_events', ['kind'])
    op.create_table('creditors',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('policy', sa.String(length=64), server_default='default', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creditors'))
    )
    op.create_table('debtors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('language', sa.String(length=2), server_default='de', nullable=False),
    sa.CheckConstraint("language IN ('de', 'en')", name=op.f('ck_debtors_language')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtors')),
    sa.UniqueConstraint('name', 'date_of_birth', name='uq_debtors_name_date_of_birth')
    )
    op.create_index(op.f('ix_debtors_phone'), 'debtors', ['phone'])
    op.create_table('promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(12, 2), nullable=False),
    sa.Column('discount', sa.Numeric(12, 2), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('policy_version', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('full', 'settlement', 'instalment_plan', 'deferral')", name=op.f('ck_promises_kind')),
    sa.CheckConstraint("status IN ('pending', 'kept', 'broken', 'cancelled')", name=op.f('ck_promises_status')),
    sa.CheckConstraint('amount >= 0 AND discount >= 0', name=op.f('ck_promises_amounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_promises_idempotency_key'))
    )
    op.create_index(op.f('ix_promises_conversation_id'), 'promises', ['conversation_id'])
    op.create_table('claims',
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('creditor_id', sa.String(length=64), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('contract_date', sa.Date(), nullable=True),
    sa.Column('invoice_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False),
    sa.Column('principal', sa.Numeric(12, 2), nullable=False),
    sa.Column('interest', sa.Numeric(12, 2), nullable=False),
    sa.Column('fees', sa.Numeric(12, 2), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'disputed', 'insolvency', 'paid')", name=op.f('ck_claims_status')),
    sa.CheckConstraint('principal >= 0 AND interest >= 0 AND fees >= 0', name=op.f('ck_claims_amounts')),
    sa.ForeignKeyConstraint(['creditor_id'], ['creditors.id'], name=op.f('fk_claims_creditor_id_creditors')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_claims_debtor_id_debtors')),
    sa.PrimaryKeyConstraint('reference', name=op.f('pk_claims'))
    )
    op.create_index(op.f('ix_claims_creditor_id'), 'claims', ['creditor_id'])
    op.create_index(op.f('ix_claims_debtor_id'), 'claims', ['debtor_id'])
    op.create_table('instalments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(12, 2), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.CheckConstraint('amount > 0 AND number >= 1', name=op.f('ck_instalments_amount_number')),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_instalments_promise_id_promises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalments')),
    sa.UniqueConstraint('promise_id', 'number', name='uq_instalments_promise_id_number')
    )
    op.create_table('conversations',
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=2), server_default='de', nullable=False),
    sa.Column('state', sa.String(length=16), server_default='bot', nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=True),
    sa.Column('verified_claim_reference', sa.String(length=32), nullable=True),
    sa.Column('failed_verifications', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("language IN ('de', 'en')", name=op.f('ck_conversations_language')),
    sa.CheckConstraint("state IN ('bot', 'queued', 'assigned', 'closed')", name=op.f('ck_conversations_state')),
    sa.CheckConstraint('failed_verifications >= 0', name=op.f('ck_conversations_failed_verifications')),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_conversations_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['verified_claim_reference'], ['claims.reference'], name=op.f('fk_conversations_verified_claim_reference_claims')),
    sa.PrimaryKeyConstraint('sender_id', name=op.f('pk_conversations'))
    )
    op.create_index(op.f('ix_conversations_debtor_id'), 'conversations', ['debtor_id'])
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_reference', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f('ck_disputes_status')),
    sa.ForeignKeyConstraint(['claim_reference'], ['claims.reference'], name=op.f('fk_disputes_claim_reference_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    op.create_index(op.f('ix_disputes_claim_reference'), 'disputes', ['claim_reference'])
    op.create_index(op.f('ix_disputes_conversation_id'), 'disputes', ['conversation_id'])
    op.create_table('promise_claims',
    sa.Column('promise_id', sa.Integer(), nullable=False),
    sa.Column('claim_reference', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['claim_reference'], ['claims.reference'], name=op.f('fk_promise_claims_claim_reference_claims')),
    sa.ForeignKeyConstraint(['promise_id'], ['promises.id'], name=op.f('fk_promise_claims_promise_id_promises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('promise_id', 'claim_reference', name=op.f('pk_promise_claims'))
    )
    op.create_index(op.f('ix_promise_claims_claim_reference'), 'promise_claims', ['claim_reference'])
    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('claim_reference', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_agent_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('sentiment_trail', JSON, nullable=False),
    sa.CheckConstraint("reason IN ('human_request', 'negative_sentiment', 'dispute', 'insolvency', 'bereavement', 'vulnerability', 'crisis', 'verification_locked', 'policy_limit', 'bot_failure')", name=op.f('ck_handoffs_reason')),
    sa.CheckConstraint("state IN ('queued', 'assigned', 'closed')", name=op.f('ck_handoffs_state')),
    sa.ForeignKeyConstraint(['assigned_agent_id'], ['agents.id'], name=op.f('fk_handoffs_assigned_agent_id_agents')),
    sa.ForeignKeyConstraint(['claim_reference'], ['claims.reference'], name=op.f('fk_handoffs_claim_reference_claims')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.sender_id'], name=op.f('fk_handoffs_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoffs'))
    )
    op.create_index(op.f('ix_handoffs_claim_reference'), 'handoffs', ['claim_reference'])
    op.create_index(op.f('ix_handoffs_conversation_id'), 'handoffs', ['conversation_id'])
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('author', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', JSON, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("author IN ('debtor', 'bot', 'agent', 'system')", name=op.f('ck_messages_author')),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_messages_direction')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.sender_id'], name=op.f('fk_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    op.create_index(op.f('ix_messages_conversation_id'), 'messages', ['conversation_id'])


def downgrade() -> None:
    _unprotect_audit_log()
    op.drop_index(op.f('ix_messages_conversation_id'), table_name='messages')
    op.drop_table('messages')
    op.drop_index(op.f('ix_handoffs_conversation_id'), table_name='handoffs')
    op.drop_index(op.f('ix_handoffs_claim_reference'), table_name='handoffs')
    op.drop_table('handoffs')
    op.drop_index(op.f('ix_promise_claims_claim_reference'), table_name='promise_claims')
    op.drop_table('promise_claims')
    op.drop_index(op.f('ix_disputes_conversation_id'), table_name='disputes')
    op.drop_index(op.f('ix_disputes_claim_reference'), table_name='disputes')
    op.drop_table('disputes')
    op.drop_index(op.f('ix_conversations_debtor_id'), table_name='conversations')
    op.drop_table('conversations')
    op.drop_table('instalments')
    op.drop_index(op.f('ix_claims_debtor_id'), table_name='claims')
    op.drop_index(op.f('ix_claims_creditor_id'), table_name='claims')
    op.drop_table('claims')
    op.drop_index(op.f('ix_promises_conversation_id'), table_name='promises')
    op.drop_table('promises')
    op.drop_index(op.f('ix_debtors_phone'), table_name='debtors')
    op.drop_table('debtors')
    op.drop_table('creditors')
    op.drop_index(op.f('ix_audit_events_kind'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_created_at'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_conversation_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_claim_reference'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('agents')


# The audit log is append-only: the database itself refuses UPDATE and DELETE,
# so no code path (ORM, raw SQL, a console) can rewrite history.
_PG_FUNCTION = """
CREATE FUNCTION quitt_audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def _protect_audit_log() -> None:
    """Install triggers that refuse UPDATE and DELETE on audit_events."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION quitt_audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION quitt_audit_events_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation} "
            "ON audit_events BEGIN "
            f"SELECT RAISE(ABORT, 'audit_events is append-only ({operation} refused)'); END"
        )


def _unprotect_audit_log() -> None:
    """Remove the append-only triggers (downgrade only)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS quitt_audit_events_append_only()")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
