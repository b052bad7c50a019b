"""Helpers of the WhatsApp tests: signed webhooks and row counts."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from domain.db import session_scope
from policy.config import DEFAULT_POLICY
from policy.contact import may_contact
from tests.support.twilio_standin import sign

PUBLIC_URL = "https://quitt.example"
WEBHOOK = "/twilio/whatsapp"
BERLIN = ZoneInfo("Europe/Berlin")


def post_webhook(
    client: TestClient,
    form: dict[str, str],
    *,
    public_url: str = PUBLIC_URL,
    signature: str | None = "sign",
) -> Any:
    """Post a webhook signed (by default) over the public URL, as Twilio would."""
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign(f"{public_url}{WEBHOOK}", form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(WEBHOOK, data=form, headers=headers)


def counts() -> dict[str, int]:
    """Count the rows the channel and the transcript hold."""
    from domain.audit.models import AuditEvent
    from domain.conversations.models import Conversation, Message
    from domain.whatsapp.models import Attachment, ChannelEvent, WhatsAppContact

    tables: dict[str, Any] = {
        "events": ChannelEvent,
        "contacts": WhatsAppContact,
        "attachments": Attachment,
        "conversations": Conversation,
        "messages": Message,
        "audit": AuditEvent,
    }
    with session_scope() as db_session:
        return {
            name: int(db_session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in tables.items()
        }


def bodies(twiml: str) -> list[str]:
    """Return the <Message> bodies of a TwiML answer."""
    return [m.text or "" for m in ElementTree.fromstring(twiml).iter("Message")]


def allowed_moment() -> datetime:
    """Return the latest 11:00 (Berlin) before today on a day the default policy allows contact.

    Contact hours depend on the weekday and holidays, so tests that send templates
    pin the console's clock to this moment (in the past, so real messages come later).
    """
    day = datetime.now(BERLIN).date() - timedelta(days=1)
    while True:
        moment = datetime.combine(day, time(11, 0), tzinfo=BERLIN)
        if may_contact(at=moment, policy=DEFAULT_POLICY).allowed:
            return moment
        day -= timedelta(days=1)


def last_sunday_noon() -> datetime:
    """Return the latest Sunday 12:00 (Berlin) before today."""
    day = datetime.now(BERLIN).date() - timedelta(days=1)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return datetime.combine(day, time(12, 0), tzinfo=BERLIN)
