"""The console's side of WhatsApp: the service window, free text and approved templates.

Free text may reach a WhatsApp debtor only within 24 hours of their last message;
after that only an approved template may go out, and only within the creditor's
contact hours.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from api.channels.whatsapp import templates as whatsapp_templates
from api.dialogue.agents import Acting, message_view
from api.events.bus import CONSOLE, EventBus
from api.twilio.client import TwilioClient, TwilioError
from domain.claims import service as claim_service
from domain.config import Settings, get_settings
from domain.conversations import service as conversation_service
from domain.conversations.models import Conversation
from domain.db import session_scope
from domain.errors import Conflict, Forbidden, QuittError, ValidationFailed
from domain.handoffs.models import Handoff
from domain.whatsapp import service as whatsapp_service
from policy.config import CreditorPolicy, PolicyBook, load_policies
from policy.contact import may_contact, next_contact_window
from policy.masking import mask_phone

from . import access as console_access
from .schemas import TemplateOptionOut, WhatsAppStateOut

logger = logging.getLogger(__name__)


class ChannelRefused(Conflict):
    """The channel does not allow this message now; `reason` says why, `data` gives details."""

    def __init__(self, message: str, reason: str, **data: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.data = data

    def body(self) -> dict[str, Any]:
        """Return the JSON answer: the explanation, a reason code and the details."""
        return {"detail": self.message, "reason": self.reason, **self.data}


class SendFailed(QuittError):
    """Twilio refused the message or could not be reached; nothing went out."""

    status_code = 502


def is_whatsapp(conversation_id: str) -> bool:
    """Tell whether a conversation runs on WhatsApp (its id is the `whatsapp:` address)."""
    return conversation_id.startswith(f"{whatsapp_service.CHANNEL}:")


@lru_cache(maxsize=2)
def _policies(path: Path) -> PolicyBook:
    """Load the creditor policies once per file."""
    return load_policies(path)


@dataclass(frozen=True)
class _Creditor:
    """Whose rules apply: the verified claim's creditor, or the default before verification."""

    claim_reference: str | None
    creditor_id: str | None
    policy: CreditorPolicy


def _creditor(db_session: Session, conversation: Conversation, settings: Settings) -> _Creditor:
    """Find the verified claim's creditor and policy (only a verified claim counts).

    A handoff may name a claim the debtor only typed (a locked verification, say);
    a creditor's own template must not tell a stranger whom the number owes.
    """
    book = _policies(Path(settings.policy_file))
    reference = conversation.verified_claim_reference
    claim = (
        claim_service.get_by_reference(db_session=db_session, reference=reference)
        if reference
        else None
    )
    if claim is None:
        return _Creditor(None, None, book.get("default"))
    name = claim.creditor.policy
    policy = book.get(name) if name in book else book.get("default")
    return _Creditor(claim.reference, claim.creditor_id, policy)


def _language(handoff: Handoff, conversation: Conversation) -> str:
    """Return the debtor's language for templates."""
    return conversation.language or handoff.language or whatsapp_templates.LANGUAGES[0]


def state(
    *,
    db_session: Session,
    handoff: Handoff,
    conversation: Conversation,
    now: datetime,
    settings: Settings | None = None,
) -> WhatsAppStateOut | None:
    """Describe the WhatsApp side of a conversation (None for other channels)."""
    if not is_whatsapp(conversation.sender_id):
        return None
    settings = settings or get_settings()
    contact = whatsapp_service.get_contact(db_session=db_session, address=conversation.sender_id)
    window = whatsapp_service.service_window(contact, now) if contact else None
    creditor = _creditor(db_session, conversation, settings)
    allowed = may_contact(at=now, policy=creditor.policy).allowed
    options: list[TemplateOptionOut] = []
    try:
        catalogue = whatsapp_templates.catalogue(settings)
        for name in catalogue.names:
            rendered = whatsapp_templates.render(
                catalogue,
                name=name,
                language=_language(handoff, conversation),
                creditor_id=creditor.creditor_id,
                settings=settings,
            )
            options.append(
                TemplateOptionOut(
                    name=name, title=rendered.title, language=rendered.language, text=rendered.text
                )
            )
    except whatsapp_templates.TemplateConfigError:
        # A broken templates file must not hide the conversation; operators see the log.
        logger.exception("WhatsApp templates file is invalid; no templates offered")
    return WhatsAppStateOut(
        window_open=bool(window and window.open),
        last_inbound_at=window.last_inbound_at if window else None,
        window_closes_at=window.closes_at if window else None,
        opted_out=bool(contact and contact.opted_out_at is not None),
        template_awaiting_answer=bool(
            contact
            and whatsapp_service.template_awaiting_answer(
                db_session=db_session,
                address=conversation.sender_id,
                since=contact.last_inbound_at,
            )
        ),
        contact_allowed=allowed,
        next_contact_at=None if allowed else next_contact_window(after=now, policy=creditor.policy),
        templates=options,
    )


def _held(db_session: Session, handoff_id: int, agent: Acting) -> Handoff:
    """Get a handoff the agent holds (or a supervisor acts on), or raise."""
    handoff = console_access.visible_handoff(
        db_session=db_session, handoff_id=handoff_id, agent=agent
    )
    if handoff.state != "assigned":
        raise Conflict(f"handoff {handoff.id} is {handoff.state}, not assigned")
    if handoff.assigned_agent_id != agent.id and not agent.supervisor:
        raise Forbidden(f"handoff {handoff.id} is held by another agent")
    return handoff


def _record_refusal(
    db_session: Session,
    address: str,
    refusal: ChannelRefused,
    handoff: Handoff,
    agent: Acting,
    **data: Any,
) -> None:
    """Audit a refused reply with the handoff, the agent and what was refused."""
    whatsapp_service.record_reply_refused(
        db_session=db_session,
        address=address,
        reason=refusal.reason,
        data={"handoff_id": handoff.id, "agent_id": agent.id, **data},
    )


def free_text_refusal(
    *, db_session: Session, handoff: Handoff, agent: Acting, now: datetime
) -> ChannelRefused | None:
    """Return why free text may not reach this WhatsApp debtor now (audited), or None."""
    address = handoff.conversation_id
    if not is_whatsapp(address) or handoff.state != "assigned":
        return None
    contact = whatsapp_service.get_contact(db_session=db_session, address=address)
    refusal: ChannelRefused | None = None
    if contact is None:
        refusal = ChannelRefused(
            "This WhatsApp number has never written to us; nothing can be sent.",
            "whatsapp_no_contact",
        )
    elif contact.opted_out_at is not None:
        refusal = ChannelRefused(
            "The debtor has unsubscribed from WhatsApp (STOP); nothing more may be sent.",
            "whatsapp_opted_out",
            opted_out_at=contact.opted_out_at.isoformat(),
        )
    else:
        window = whatsapp_service.service_window(contact, now)
        if not window.open:
            refusal = ChannelRefused(
                "WhatsApp's 24-hour window closed at "
                f"{window.closes_at.isoformat(timespec='minutes')}: free text cannot be sent. "
                "Send an approved template instead; once the debtor answers, free text "
                "works again.",
                "whatsapp_window_closed",
                last_inbound_at=window.last_inbound_at.isoformat(),
                window_closed_at=window.closes_at.isoformat(),
            )
    if refusal is not None:
        _record_refusal(db_session, address, refusal, handoff, agent, message_id=None)
    return refusal


async def check_free_text(*, bus: EventBus, handoff_id: int, agent: Acting, now: datetime) -> None:
    """Refuse an agent's free-text reply the channel would not deliver, and alert the console."""

    def work() -> ChannelRefused | None:
        with session_scope() as db_session:
            handoff = console_access.visible_handoff(
                db_session=db_session, handoff_id=handoff_id, agent=agent
            )
            if handoff.assigned_agent_id != agent.id and not agent.supervisor:
                return None  # the reply itself refuses it (403)
            return free_text_refusal(db_session=db_session, handoff=handoff, agent=agent, now=now)

    refusal = await asyncio.to_thread(work)
    if refusal is None:
        return
    await bus.publish(CONSOLE, _alert(refusal.reason, handoff_id, refusal.data))
    raise refusal


def _alert(reason: str, handoff_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Build a console alert event about a WhatsApp handoff."""
    return {
        "type": "alert",
        "reason": reason,
        "handoff_id": handoff_id,
        "channel": whatsapp_service.CHANNEL,
        **data,
    }


@dataclass(frozen=True)
class _Outgoing:
    """A template cleared to go out, and where to."""

    handoff_id: int
    address: str
    from_: str
    rendered: whatsapp_templates.Rendered
    claim_reference: str | None
    reasons: tuple[str, ...]
    policy_version: str

    @property
    def record(self) -> dict[str, Any]:
        """Return what the transcript and the audit log keep about the template."""
        return {
            "name": self.rendered.name,
            "title": self.rendered.title,
            "language": self.rendered.language,
            "content_sid": self.rendered.content_sid,
            "content_variables": self.rendered.variables,
            "handoff_id": self.handoff_id,
        }


def _prepare_template(
    db_session: Session, handoff_id: int, agent: Acting, name: str, now: datetime
) -> _Outgoing | ChannelRefused:
    """Check that the template may go out now and pick its copy (refusals are audited)."""
    settings = get_settings()
    handoff = _held(db_session, handoff_id, agent)
    address = handoff.conversation_id
    if not is_whatsapp(address):
        raise ValidationFailed("template: only WhatsApp conversations take templates")
    conversation = conversation_service.get_or_raise(db_session=db_session, sender_id=address)
    try:
        catalogue = whatsapp_templates.catalogue(settings)
        creditor = _creditor(db_session, conversation, settings)
        rendered = whatsapp_templates.render(
            catalogue,
            name=name,
            language=_language(handoff, conversation),
            creditor_id=creditor.creditor_id,
            settings=settings,
        )
    except whatsapp_templates.UnknownTemplate as exc:
        raise ValidationFailed(f"template: {exc}") from exc
    except whatsapp_templates.TemplateConfigError as exc:
        raise ValidationFailed(f"template: the templates file is invalid: {exc}") from exc
    contact = whatsapp_service.get_contact(db_session=db_session, address=address)
    decision = may_contact(at=now, policy=creditor.policy)
    refusal: ChannelRefused | None = None
    if contact is None:
        refusal = ChannelRefused(
            "This WhatsApp number has never written to us.", "whatsapp_no_contact"
        )
    elif contact.opted_out_at is not None:
        refusal = ChannelRefused(
            "The debtor has unsubscribed from WhatsApp (STOP); no template may be sent.",
            "whatsapp_opted_out",
        )
    elif whatsapp_service.service_window(contact, now).open:
        refusal = ChannelRefused(
            "The 24-hour window is still open: write a normal reply instead of a template.",
            "whatsapp_window_open",
        )
    elif whatsapp_service.template_awaiting_answer(
        db_session=db_session, address=address, since=contact.last_inbound_at
    ):
        refusal = ChannelRefused(
            "A template already went out and the debtor has not answered yet.",
            "whatsapp_template_awaiting_answer",
        )
    elif not decision.allowed:
        next_at = next_contact_window(after=now, policy=creditor.policy)
        refusal = ChannelRefused(
            "Outside the creditor's contact hours: the template may go out from "
            f"{next_at.isoformat(timespec='minutes')}.",
            "outside_contact_hours",
            reasons=list(decision.reasons),
            next_contact_at=next_at.isoformat(),
        )
    if refusal is not None:
        _record_refusal(db_session, address, refusal, handoff, agent, template=name)
        return refusal
    assert contact is not None
    return _Outgoing(
        handoff_id=handoff.id,
        address=address,
        from_=contact.our_address,
        rendered=rendered,
        claim_reference=creditor.claim_reference,
        reasons=decision.reasons,
        policy_version=decision.policy_version,
    )


async def send_template(
    *,
    bus: EventBus,
    client: TwilioClient,
    handoff_id: int,
    agent: Acting,
    name: str,
    now: datetime,
) -> dict[str, Any]:
    """Send an approved template to a WhatsApp debtor whose window has closed."""

    def prepare() -> _Outgoing | ChannelRefused:
        with session_scope() as db_session:
            return _prepare_template(db_session, handoff_id, agent, name, now)

    outgoing = await asyncio.to_thread(prepare)
    if isinstance(outgoing, ChannelRefused):
        raise outgoing
    record = outgoing.record
    try:
        sid = await client.send_template(
            from_=outgoing.from_,
            to=outgoing.address,
            content_sid=outgoing.rendered.content_sid,
            content_variables=outgoing.rendered.content_variables,
        )
    except TwilioError as exc:
        error = exc.message
        logger.warning(
            "Twilio refused a template to %s: %s", mask_phone(outgoing.address), exc.message
        )

        def failed() -> None:
            with session_scope() as db_session:
                whatsapp_service.record_template_failed(
                    db_session=db_session,
                    address=outgoing.address,
                    agent_id=agent.id,
                    template=record,
                    error=error,
                )

        await asyncio.to_thread(failed)
        await bus.publish(
            CONSOLE,
            {
                **_alert("whatsapp_send_failed", handoff_id, {"detail": error}),
                "conversation_id": outgoing.address,
            },
        )
        raise SendFailed(f"Twilio refused the template: {error}") from exc

    def sent() -> dict[str, Any]:
        with session_scope() as db_session:
            message = whatsapp_service.record_template_sent(
                db_session=db_session,
                address=outgoing.address,
                agent_id=agent.id,
                text=outgoing.rendered.text,
                template={**record, "twilio_sid": sid},
                claim_reference=outgoing.claim_reference,
                reasons=outgoing.reasons,
                policy_version=outgoing.policy_version,
                now=now,
            )
            return {**message_view(message), "template": (message.data or {}).get("template")}

    view = await asyncio.to_thread(sent)
    # `template` tells the WhatsApp forwarder that this one has gone out already.
    await bus.publish(CONSOLE, {"type": "message", **view})
    return view
