"""Import every domain's models so `Base.metadata` knows all tables (for Alembic)."""

from api.agents.models import Agent
from api.audit.models import AuditEvent
from api.channels.whatsapp.models import Attachment, ChannelEvent, WhatsAppContact
from api.claims.models import Claim, Creditor, Debtor
from api.conversations.models import Conversation, Message
from api.db import Base
from api.disputes.models import Dispute
from api.handoffs.models import Handoff
from api.payments.models import Payment, PaymentAllocation
from api.privacy.models import PrivacyErasure, PrivacyRequest
from api.promises.models import Instalment, Promise, promise_claims
from api.reminders.models import Reminder, ReminderOptOut
from voice.models import VoiceCall

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
