"""Import every domain's models so `Base.metadata` knows all tables (for Alembic)."""

from api.agents.models import Agent
from api.audit.models import AuditEvent
from api.claims.models import Claim, Creditor, Debtor
from api.conversations.models import Conversation, Message
from api.db import Base
from api.disputes.models import Dispute
from api.handoffs.models import Handoff
from api.promises.models import Instalment, Promise, promise_claims

__all__ = [
    "Agent",
    "AuditEvent",
    "Base",
    "Claim",
    "Conversation",
    "Creditor",
    "Debtor",
    "Dispute",
    "Handoff",
    "Instalment",
    "Message",
    "Promise",
    "promise_claims",
]
