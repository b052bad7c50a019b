"""Every table of the domain, so that `Base.metadata` and the mappers know them all.

The `domain` package imports this module first; Alembic reads its `Base`.
"""

from domain.agents.models import Agent
from domain.audit.models import AuditEvent
from domain.calls.models import VoiceCall
from domain.claims.models import Claim, Creditor, Debtor
from domain.conversations.models import Conversation, Message
from domain.db import Base
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff
from domain.payments.models import Payment, PaymentAllocation
from domain.privacy.models import PrivacyErasure, PrivacyRequest
from domain.promises.models import Instalment, Promise, promise_claims
from domain.reminders.models import Reminder, ReminderOptOut
from domain.whatsapp.models import Attachment, ChannelEvent, WhatsAppContact

__all__ = [
    "Agent",
    "Attachment",
    "AuditEvent",
    "Base",
    "ChannelEvent",
    "Claim",
    "Conversation",
    "Creditor",
    "Debtor",
    "Dispute",
    "Handoff",
    "Instalment",
    "Message",
    "Payment",
    "PaymentAllocation",
    "PrivacyErasure",
    "PrivacyRequest",
    "Promise",
    "Reminder",
    "ReminderOptOut",
    "VoiceCall",
    "WhatsAppContact",
    "promise_claims",
]
