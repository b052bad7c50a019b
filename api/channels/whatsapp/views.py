"""`POST /twilio/whatsapp`: Twilio's webhook for WhatsApp messages, answered in TwiML."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from api.dialogue.service import clean_text
from api.twilio import signature
from domain.config import get_settings
from domain.db import session_scope
from domain.errors import ValidationFailed
from domain.whatsapp import service as whatsapp_service
from policy.masking import mask_phone

from . import formatting, inbound
from .runtime import WhatsAppRuntime

logger = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

_ADDRESS = re.compile(r"^whatsapp:\+\d{6,15}$")
_SID = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")
MAX_MEDIA = 10


def twiml(bodies: list[str], media: Sequence[str] = ()) -> str:
    """Render answers as TwiML, one <Message> each (none: an empty <Response/>).

    Images (the EPC QR code of a confirmation) follow as media messages, which Twilio
    fetches from their URL on QUITT_PUBLIC_URL.
    """
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    for url in media:
        response.message().media(url)
    return str(response)


def _xml(content: str) -> Response:
    """Return TwiML with the content type Twilio expects."""
    return Response(content, media_type="application/xml")


def _message(form: dict[str, str]) -> inbound.WhatsAppMessage | None:
    """Read a WhatsApp message from the webhook's fields; None if it is not one."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not _SID.match(sid):
        raise ValidationFailed("MessageSid: missing or malformed")
    address, ours = form.get("From", ""), form.get("To", "")
    if not _ADDRESS.match(address) or not ours.startswith("whatsapp:"):
        return None
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media = [
        inbound.MediaItem(
            url=form[f"MediaUrl{i}"],
            content_type=form.get(f"MediaContentType{i}") or "application/octet-stream",
        )
        for i in range(count)
        if form.get(f"MediaUrl{i}")
    ]
    return inbound.WhatsAppMessage(
        sid=sid,
        address=address,
        our_address=ours,
        body=clean_text(form.get("Body") or ""),
        media=media,
    )


@router.post("/twilio/whatsapp", response_class=Response)
async def whatsapp_webhook(request: Request) -> Response:
    """Take one WhatsApp message from Twilio (once, however often Twilio sends it)."""
    settings = get_settings()
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    signature.verify(
        settings=settings,
        url=signature.public_url(settings, request.url),
        params=form,
        signature=request.headers.get(signature.SIGNATURE_HEADER),
    )
    message = _message(form)
    if message is None:
        logger.info("Twilio webhook that is not a WhatsApp message ignored")
        return _xml(twiml([]))

    def claim() -> tuple[bool, str | None, inbound.State | None]:
        # One unit of work takes the event and reads the contact's state.
        with session_scope() as db_session:
            new, previous = whatsapp_service.claim_event(
                db_session=db_session, external_id=message.sid
            )
            return new, previous, inbound.begin(db_session, message) if new else None

    new, previous, state = await asyncio.to_thread(claim)
    if not new or state is None:
        logger.info(
            "Twilio retry of %s from %s answered again", message.sid, mask_phone(message.address)
        )
        return _xml(previous or twiml([]))
    runtime: WhatsAppRuntime = request.app.state.whatsapp

    def answer(db_session: Session, outcome: inbound.Outcome) -> str:
        language = whatsapp_service.conversation_language(
            db_session=db_session, address=message.address
        )
        bodies, options = formatting.render(outcome.replies, language)
        if outcome.new_options:
            whatsapp_service.set_options(
                db_session=db_session, address=message.address, options=options
            )
        reply = twiml(bodies, formatting.media_urls(outcome.replies))
        whatsapp_service.store_response(
            db_session=db_session, external_id=message.sid, response=reply
        )
        return reply

    try:
        reply = await inbound.process(
            message,
            state,
            gateway=request.app.state.gateway,
            client=runtime.client,
            transcriber=runtime.transcriber,
            answer=answer,
        )
    except BaseException:
        await asyncio.to_thread(_release, message.sid)
        raise
    return _xml(reply)


def _release(sid: str) -> None:
    """Let a retry of a failed event run again."""
    with session_scope() as db_session:
        whatsapp_service.release_event(db_session=db_session, external_id=sid)
