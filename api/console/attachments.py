"""Debtors' files and channel alerts in the console's conversation view.

Attachments are opened through the gateway, which fetches them from Twilio with
the account's credentials: the browser never sees a Twilio URL or the account.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
from typing import Final, Literal

from sqlalchemy.orm import Session

from api.dialogue.agents import Acting
from api.twilio.client import Media, TwilioClient, TwilioError
from domain.db import session_scope
from domain.errors import NotFound, QuittError
from domain.handoffs.models import Handoff
from domain.whatsapp import service as whatsapp_service
from domain.whatsapp.models import Attachment

from . import access as console_access
from .schemas import AlertOut, AttachmentOut

logger = logging.getLogger(__name__)
# Files a browser may show in place (the rest are downloads).
INLINE_TYPES: Final = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "application/pdf",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/amr",
    }
)


class MediaUnavailable(QuittError):
    """Twilio could not hand over an attachment (gone, refused, altered)."""

    status_code = 502


def attachment_kind(content_type: str) -> Literal["image", "document", "voice"]:
    """Name what kind of file a content type is, as the console shows it."""
    if content_type.startswith("audio/"):
        return "voice"
    if content_type.startswith("image/"):
        return "image"
    return "document"


def attachment_out(handoff_id: int, attachment: Attachment) -> AttachmentOut:
    """Describe an attachment for the console (no Twilio URL)."""
    return AttachmentOut(
        id=attachment.id,
        kind=attachment_kind(attachment.content_type),
        content_type=attachment.content_type,
        size_bytes=attachment.size_bytes,
        transcript=attachment.transcript,
        created_at=attachment.created_at,
        message_id=attachment.message_id,
        url=f"/api/console/handoffs/{handoff_id}/attachments/{attachment.id}",
    )


def attachment_headers(attachment: AttachmentOut) -> dict[str, str]:
    """Return the headers a debtor's file is handed over with: no sniffing, no scripts."""
    extension = mimetypes.guess_extension(attachment.content_type) or ".bin"
    # Images, PDFs and audio open in the browser; anything else is only downloaded.
    inline = attachment.content_type in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Disposition": f'{disposition}; filename="anhang-{attachment.id}{extension}"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


def attachments(*, db_session: Session, handoff: Handoff) -> list[AttachmentOut]:
    """List the files of the handoff's conversation, oldest first."""
    return [
        attachment_out(handoff.id, a)
        for a in whatsapp_service.list_attachments(
            db_session=db_session, address=handoff.conversation_id
        )
    ]


def alerts(*, db_session: Session, conversation_id: str) -> list[AlertOut]:
    """List what happened on the channel that an agent should notice, oldest first."""
    found: list[AlertOut] = []
    for event in whatsapp_service.list_alerts(db_session=db_session, address=conversation_id):
        data = event.data or {}
        reason = {
            "whatsapp_opt_out": "whatsapp_opted_out",
            "whatsapp_opt_in": "whatsapp_opted_in",
            "whatsapp_template_sent": "whatsapp_template_sent",
        }.get(event.kind) or (event.reasons[0] if event.reasons else event.kind)
        detail = data.get("error") or data.get("title")
        message_id = data.get("message_id")
        found.append(
            AlertOut(
                reason=reason,
                at=event.created_at,
                detail=str(detail) if detail else None,
                message_id=message_id if isinstance(message_id, int) else None,
            )
        )
    for attachment in whatsapp_service.list_attachments(
        db_session=db_session, address=conversation_id
    ):
        found.append(
            AlertOut(
                reason="whatsapp_attachment",
                at=attachment.created_at,
                detail=attachment.content_type,
                message_id=attachment.message_id,
                attachment_id=attachment.id,
            )
        )
    return sorted(found, key=lambda a: a.at)


async def open_attachment(
    *, client: TwilioClient, handoff_id: int, attachment_id: int, agent: Acting
) -> tuple[Media, AttachmentOut]:
    """Fetch an attachment of a handoff the agent may see from Twilio (audited)."""

    def find() -> tuple[str, AttachmentOut, str | None]:
        with session_scope() as db_session:
            handoff = console_access.visible_handoff(
                db_session=db_session, handoff_id=handoff_id, agent=agent
            )
            attachment = whatsapp_service.get_attachment(
                db_session=db_session, address=handoff.conversation_id, attachment_id=attachment_id
            )
            if attachment is None:
                raise NotFound(f"attachment {attachment_id} not found in handoff {handoff_id}")
            whatsapp_service.record_attachment_opened(
                db_session=db_session,
                address=handoff.conversation_id,
                attachment_id=attachment.id,
                agent_id=agent.id,
            )
            return attachment.media_url, attachment_out(handoff_id, attachment), attachment.sha256

    media_url, described, sha256 = await asyncio.to_thread(find)
    try:
        media = await client.download(media_url)
    except TwilioError as exc:
        logger.warning("attachment %s could not be fetched: %s", attachment_id, exc.message)
        raise MediaUnavailable(f"Twilio could not hand over the file: {exc.message}") from exc
    if sha256 and hashlib.sha256(media.content).hexdigest() != sha256:
        raise MediaUnavailable("the file Twilio returned differs from the one received")
    return media, described
