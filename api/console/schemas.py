"""Console API answers and request bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.db.schemas import Money
from domain.disputes.schemas import DisputeOut
from domain.promises.schemas import PromiseOut


class _In(BaseModel):
    """Strict input: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


class TextIn(_In):
    """A reply to the debtor or a private note."""

    text: str = Field(min_length=1, max_length=4000)


class CloseIn(_In):
    """How a handoff ended."""

    outcome: str = Field(min_length=1, max_length=500)


class MeOut(BaseModel):
    """The agent behind the token."""

    id: int
    email: str
    role: str


class _HandoffFields(BaseModel):
    """What the queue and the detail view both show of a handoff, first."""

    id: int
    conversation_id: str
    reason: str
    channel: str
    language: str | None
    state: str
    assigned_agent_id: int | None
    created_at: datetime


class QueueItemOut(_HandoffFields):
    """One open handoff in the queue."""

    waiting_seconds: int
    sentiment: dict[str, Any] | None
    claim_reference: str | None
    last_message_at: datetime | None


class HandoffOut(_HandoffFields):
    """A handoff with everything the console's detail view shows about it."""

    closed_at: datetime | None
    outcome: str | None
    waiting_seconds: int
    claim_reference: str | None
    sentiment_trail: list[Any]
    # The bot's statement for the agent (an affordability check), or null.
    statement: dict[str, Any] | None = None


class MessageOut(BaseModel):
    """One transcript line (`api.dialogue.agents.message_view`)."""

    id: int
    conversation_id: str
    direction: str
    author: str
    text: str
    buttons: list[Any] | None = None
    sentiment: dict[str, Any] | None = None
    agent_id: int | None = None
    created_at: str
    # A WhatsApp template this line sent ({name, language, title, content_sid}).
    template: dict[str, Any] | None = None
    # Files the debtor sent with this line (their ids in the handoff's attachments).
    attachment_ids: list[int] | None = None
    # An image the bot sent: a confirmation's EPC QR code (its /pay/qr/… link).
    image: str | None = None


class NoteOut(BaseModel):
    """A private note on a handoff."""

    id: int
    agent_id: int
    text: str
    created_at: str


class ClaimSummaryOut(BaseModel):
    """The verified claim as the agent needs it: amounts kept apart, promises, disputes."""

    reference: str
    creditor: str
    debtor_name: str
    subject: str
    due_date: date
    currency: str
    principal: Money
    interest: Money
    fees: Money
    total: Money
    status: str
    promises: list[PromiseOut]
    disputes: list[DisputeOut]


class AttachmentOut(BaseModel):
    """A file the debtor sent; open it through the console's attachment endpoint."""

    id: int
    kind: Literal["image", "document", "voice"]
    content_type: str
    size_bytes: int | None
    transcript: str | None
    created_at: datetime
    message_id: int | None
    url: str


class AlertOut(BaseModel):
    """Something about the channel an agent should notice (opt-out, closed window, …)."""

    reason: str
    at: datetime
    detail: str | None = None
    message_id: int | None = None
    attachment_id: int | None = None


class TemplateOptionOut(BaseModel):
    """An approved template the agent may send, in the conversation's language."""

    name: str
    title: str
    language: str
    text: str


class WhatsAppStateOut(BaseModel):
    """Where a WhatsApp conversation stands: window, opt-out, contact hours, templates."""

    window_open: bool
    last_inbound_at: datetime | None
    window_closes_at: datetime | None
    opted_out: bool
    template_awaiting_answer: bool
    contact_allowed: bool
    next_contact_at: datetime | None
    templates: list[TemplateOptionOut]


class HandoffDetailOut(BaseModel):
    """The console's conversation view."""

    handoff: HandoffOut
    conversation_state: str
    transcript: list[MessageOut]
    notes: list[NoteOut]
    claim: ClaimSummaryOut | None
    attachments: list[AttachmentOut] = []
    alerts: list[AlertOut] = []
    whatsapp: WhatsAppStateOut | None = None


class TemplateIn(_In):
    """Which approved template to send (in the conversation's language)."""

    template: str = Field(min_length=1, max_length=64)


class HandoffEventOut(BaseModel):
    """A handoff's new state after an agent acted on it."""

    type: str
    handoff_id: int
    conversation_id: str
    state: str
    reason: str
    assigned_agent_id: int | None


class NoteEventOut(NoteOut):
    """A note just written, with the handoff it belongs to."""

    type: Literal["note"] = "note"
    handoff_id: int
    conversation_id: str


class CannedReplyOut(BaseModel):
    """One canned reply in one language."""

    id: str
    title: str
    text: str
