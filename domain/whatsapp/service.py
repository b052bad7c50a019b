"""The WhatsApp channel's storage: processed events, contacts, opt-outs, attachments.

Plain functions on an explicit session; the async layers run them in worker threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.audit.models import AuditEvent
from domain.claims.models import Debtor
from domain.conversations import service as conversations_service
from domain.conversations.models import Message
from domain.db.columns import utcnow
from domain.whatsapp import suppression

from .models import Attachment, ChannelEvent, WhatsAppContact

CHANNEL: Final = "whatsapp"
# Outside this window after the debtor's last message only approved templates may go out.
SERVICE_WINDOW: Final = timedelta(hours=24)
# Audit events of a WhatsApp conversation that the console lists as its alerts.
ALERT_KINDS: Final = (
    "whatsapp_opt_out",
    "whatsapp_opt_in",
    "whatsapp_agent_reply_refused",
    "whatsapp_template_sent",
)


def claim_event(*, db_session: Session, external_id: str) -> tuple[bool, str | None]:
    """Take a Twilio event for processing; return (new, the answer given before)."""
    try:
        with db_session.begin_nested():
            db_session.add(ChannelEvent(channel=CHANNEL, external_id=external_id))
            db_session.flush()
    except IntegrityError:
        seen = db_session.scalar(
            select(ChannelEvent).where(
                ChannelEvent.channel == CHANNEL, ChannelEvent.external_id == external_id
            )
        )
        return False, seen.response if seen else None
    return True, None


def store_response(*, db_session: Session, external_id: str, response: str) -> None:
    """Keep the answer to an event, so that a retry gets the same one."""
    db_session.execute(
        update(ChannelEvent)
        .where(ChannelEvent.channel == CHANNEL, ChannelEvent.external_id == external_id)
        .values(response=response)
    )


def release_event(*, db_session: Session, external_id: str) -> None:
    """Forget an event that failed, so that Twilio's retry processes it again."""
    db_session.query(ChannelEvent).filter(
        ChannelEvent.channel == CHANNEL, ChannelEvent.external_id == external_id
    ).delete()


def phone_number(address: str) -> str:
    """Return the E.164 number of a `whatsapp:+49…` address."""
    return address.removeprefix(f"{CHANNEL}:")


def debtor_hints(*, db_session: Session, address: str) -> list[int]:
    """Return the ids of debtors with this phone number (a hint, never an identity check)."""
    return list(
        db_session.scalars(
            select(Debtor.id).where(Debtor.phone == phone_number(address)).order_by(Debtor.id)
        )
    )


def get_contact(*, db_session: Session, address: str) -> WhatsAppContact | None:
    """Get what the channel knows about a WhatsApp address."""
    return db_session.get(WhatsAppContact, address)


def touch_contact(
    *, db_session: Session, address: str, our_address: str, now: datetime | None = None
) -> WhatsAppContact:
    """Note an inbound message: it opens the 24-hour window and names our number."""
    now = now or utcnow()
    contact = db_session.get(WhatsAppContact, address)
    if contact is None:
        contact = WhatsAppContact(
            address=address,
            our_address=our_address,
            last_inbound_at=now,
            debtor_hint_ids=debtor_hints(db_session=db_session, address=address) or None,
            # An erased person's STOP holds for their number (domain.whatsapp.suppression).
            opted_out_at=suppression.opted_out_at(db_session=db_session, address=address),
        )
        try:
            with db_session.begin_nested():
                db_session.add(contact)
                db_session.flush()
            return contact
        except IntegrityError:
            existing = db_session.get(WhatsAppContact, address)
            if existing is None:
                raise
            contact = existing
    contact.our_address = our_address
    contact.last_inbound_at = now
    db_session.flush()
    return contact


def set_options(*, db_session: Session, address: str, options: list[dict[str, Any]] | None) -> None:
    """Remember the numbered options of the last answer (None: no number means anything)."""
    contact = db_session.get(WhatsAppContact, address)
    if contact is not None:
        contact.options = options
        db_session.flush()


def opt_out(*, db_session: Session, address: str, now: datetime | None = None) -> bool:
    """Record an opt-out; return False when the address had opted out already."""
    contact = db_session.get(WhatsAppContact, address)
    if contact is None or contact.opted_out_at is not None:
        return False
    contact.opted_out_at = now or utcnow()
    contact.options = None
    audit_service.record(db_session=db_session, kind="whatsapp_opt_out", conversation_id=address)
    db_session.flush()
    return True


def opt_in(*, db_session: Session, address: str) -> bool:
    """Lift an opt-out; return False when there was none."""
    contact = db_session.get(WhatsAppContact, address)
    if contact is None or contact.opted_out_at is None:
        return False
    contact.opted_out_at = None
    audit_service.record(db_session=db_session, kind="whatsapp_opt_in", conversation_id=address)
    db_session.flush()
    return True


def conversation_language(*, db_session: Session, address: str) -> str | None:
    """Return the conversation's language, if the conversation exists."""
    conversation = conversations_service.get(db_session=db_session, sender_id=address)
    return conversation.language if conversation else None


def record_message(
    *,
    db_session: Session,
    address: str,
    author: str,
    text: str,
    data: dict[str, Any] | None = None,
) -> Message:
    """Put a turn the dialogue pipeline does not see (opt-out, attachment) in the transcript."""
    conversations_service.get_or_create(db_session=db_session, sender_id=address, channel=CHANNEL)
    return conversations_service.add_message(
        db_session=db_session,
        sender_id=address,
        direction="in" if author == "debtor" else "out",
        author=author,
        text=text,
        data=data,
    )


def add_attachment(
    *,
    db_session: Session,
    address: str,
    external_id: str,
    media_url: str,
    content_type: str,
    size_bytes: int | None = None,
    sha256: str | None = None,
    transcript: str | None = None,
) -> Attachment:
    """Attach a debtor's file to the conversation for an agent."""
    conversations_service.get_or_create(db_session=db_session, sender_id=address, channel=CHANNEL)
    attachment = Attachment(
        conversation_id=address,
        channel=CHANNEL,
        external_id=external_id,
        media_url=media_url,
        content_type=content_type,
        size_bytes=size_bytes,
        sha256=sha256,
        transcript=transcript,
    )
    db_session.add(attachment)
    db_session.flush()
    return attachment


def link_attachments(*, db_session: Session, attachment_ids: list[int], message_id: int) -> None:
    """Tie attachments to the transcript line that announces them."""
    if attachment_ids:
        db_session.execute(
            update(Attachment)
            .where(Attachment.id.in_(attachment_ids))
            .values(message_id=message_id)
        )


def list_attachments(*, db_session: Session, address: str) -> list[Attachment]:
    """List a conversation's attachments, oldest first."""
    return list(
        db_session.scalars(
            select(Attachment).where(Attachment.conversation_id == address).order_by(Attachment.id)
        )
    )


@dataclass(frozen=True)
class Delivery:
    """What to do with an agent's reply: send it (from, to) or refuse it (reason)."""

    refused: str | None
    from_: str = ""
    to: str = ""
    last_inbound_at: datetime | None = None


def claim_agent_message(
    *, db_session: Session, message_id: int, address: str, now: datetime | None = None
) -> Delivery | None:
    """Decide how an agent's reply reaches the debtor; None when another path delivered it.

    A reply that may not go out stays undelivered, so the debtor's next message
    (which opens a new window) brings it along.
    """
    now = now or utcnow()
    contact = db_session.get(WhatsAppContact, address)
    if contact is None:
        return _refuse(db_session, address, message_id, "whatsapp_no_contact", None)
    if contact.opted_out_at is not None:
        return _refuse(db_session, address, message_id, "whatsapp_opted_out", None)
    if now - contact.last_inbound_at > SERVICE_WINDOW:
        return _refuse(
            db_session, address, message_id, "whatsapp_window_closed", contact.last_inbound_at
        )
    # One conditional UPDATE: of several gateways (or a racing inbound), one delivers.
    result = db_session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivered_at.is_(None))
        .values(delivered_at=now)
    )
    if not getattr(result, "rowcount", 0):
        return None
    return Delivery(None, contact.our_address, address, contact.last_inbound_at)


def _refuse(
    db_session: Session,
    address: str,
    message_id: int,
    reason: str,
    last_inbound_at: datetime | None,
) -> Delivery:
    """Write the refusal to the audit log and return it."""
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_agent_reply_refused",
        conversation_id=address,
        reasons=[reason],
        data={
            "message_id": message_id,
            "last_inbound_at": last_inbound_at.isoformat() if last_inbound_at else None,
        },
    )
    return Delivery(reason, last_inbound_at=last_inbound_at)


def release_agent_message(
    *, db_session: Session, message_id: int, address: str, error: str
) -> None:
    """Mark an agent's reply undelivered again after Twilio refused it, and audit that."""
    db_session.execute(update(Message).where(Message.id == message_id).values(delivered_at=None))
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_agent_reply_refused",
        conversation_id=address,
        reasons=["whatsapp_send_failed"],
        data={"message_id": message_id, "error": error},
    )


def record_agent_message_sent(
    *, db_session: Session, message_id: int, address: str, sids: list[str]
) -> None:
    """Audit an agent's reply that went out through Twilio."""
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_agent_reply_sent",
        conversation_id=address,
        data={"message_id": message_id, "twilio_sids": sids},
    )


@dataclass(frozen=True)
class Window:
    """The customer-service window of one WhatsApp address at a moment."""

    open: bool
    last_inbound_at: datetime
    closes_at: datetime


def service_window(contact: WhatsAppContact, now: datetime) -> Window:
    """Tell whether free text may go out now: within 24 hours of the debtor's last message."""
    closes_at = contact.last_inbound_at + SERVICE_WINDOW
    return Window(now <= closes_at, contact.last_inbound_at, closes_at)


def template_awaiting_answer(*, db_session: Session, address: str, since: datetime) -> bool:
    """Tell whether a template went out after the debtor's last message (still unanswered)."""
    stmt = select(Message.data).where(
        Message.conversation_id == address,
        Message.author == "agent",
        Message.created_at >= since,
    )
    return any(isinstance((data or {}).get("template"), dict) for data in db_session.scalars(stmt))


def get_attachment(*, db_session: Session, address: str, attachment_id: int) -> Attachment | None:
    """Get an attachment of this conversation (another conversation's is None)."""
    attachment = db_session.get(Attachment, attachment_id)
    if attachment is None or attachment.conversation_id != address:
        return None
    return attachment


def record_reply_refused(
    *, db_session: Session, address: str, reason: str, data: dict[str, Any]
) -> None:
    """Audit an agent's free-text reply refused before it was stored (window, opt-out)."""
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_agent_reply_refused",
        conversation_id=address,
        reasons=[reason],
        data=data,
    )


def record_template_sent(
    *,
    db_session: Session,
    address: str,
    agent_id: int,
    text: str,
    template: dict[str, Any],
    claim_reference: str | None,
    reasons: Sequence[str],
    policy_version: str | None,
    now: datetime | None = None,
) -> Message:
    """Put a sent template in the transcript (delivered) and audit it."""
    message = conversations_service.add_message(
        db_session=db_session,
        sender_id=address,
        direction="out",
        author="agent",
        text=text,
        data={"template": template},
    )
    message.agent_id = agent_id
    message.delivered_at = now or utcnow()
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_template_sent",
        conversation_id=address,
        claim_reference=claim_reference,
        reasons=reasons,
        policy_version=policy_version,
        data={"message_id": message.id, "agent_id": agent_id, **template},
    )
    db_session.flush()
    return message


def record_template_failed(
    *, db_session: Session, address: str, agent_id: int, template: dict[str, Any], error: str
) -> None:
    """Audit a template Twilio refused (nothing reached the debtor)."""
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_agent_reply_refused",
        conversation_id=address,
        reasons=["whatsapp_send_failed"],
        data={"agent_id": agent_id, "error": error, **template},
    )


def list_alerts(*, db_session: Session, address: str) -> list[AuditEvent]:
    """List the audit events of this address the console shows as alerts, oldest first."""
    return list(
        db_session.scalars(
            select(AuditEvent)
            .where(AuditEvent.conversation_id == address, AuditEvent.kind.in_(ALERT_KINDS))
            .order_by(AuditEvent.id)
        )
    )


def record_attachment_opened(
    *, db_session: Session, address: str, attachment_id: int, agent_id: int
) -> None:
    """Audit an agent opening a debtor's file."""
    audit_service.record(
        db_session=db_session,
        kind="whatsapp_attachment_opened",
        conversation_id=address,
        data={"attachment_id": attachment_id, "agent_id": agent_id},
    )
