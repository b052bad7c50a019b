"""WhatsApp opt-outs that outlive an erasure, without the number.

An erasure deletes the person's WhatsApp contact, and with it `opted_out_at`. What
stays is an HMAC-SHA256 of the number (E.164) under a key derived from the app's
`secret_key` (never the key itself): it cannot be turned back into the number, but
the same number hashes alike. When that number writes again, its new contact starts
opted out (`domain.whatsapp.service.touch_contact`), so every check of an
opt-out before a WhatsApp message goes out (bot answers, agents' replies, templates,
reminders) holds, until the person sends START.

Rotating `secret_key` makes the hashes of earlier erasures unrecognisable.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from domain.config import get_settings
from domain.whatsapp.models import WhatsAppSuppression

_CONTEXT: Final = b"quitt/privacy/whatsapp-suppression/v1"
_ADDRESS_PREFIX: Final = "whatsapp:"


def number_hash(address: str) -> str:
    """Return the keyed hash of a WhatsApp address's number (`whatsapp:+49…` or `+49…`)."""
    secret = get_settings().secret_key.get_secret_value().encode()
    key = hmac.new(secret, _CONTEXT, hashlib.sha256).digest()
    number = address.removeprefix(_ADDRESS_PREFIX).strip()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def keep(*, db_session: Session, address: str, opted_out_at: datetime | None) -> None:
    """Remember a contact's opt-out before it goes; forget an earlier one after a START."""
    digest = number_hash(address)
    entry = db_session.get(WhatsAppSuppression, digest)
    if opted_out_at is None:
        if entry is not None:
            db_session.delete(entry)
    elif entry is None:
        db_session.add(WhatsAppSuppression(number_hash=digest, opted_out_at=opted_out_at))
    else:
        entry.opted_out_at = opted_out_at
    db_session.flush()


def opted_out_at(*, db_session: Session, address: str) -> datetime | None:
    """Return when an erased person with this WhatsApp number said STOP, or None."""
    entry = db_session.get(WhatsAppSuppression, number_hash(address))
    return entry.opted_out_at if entry is not None else None
