"""The unsubscribe link of reminder e-mails: a signed token naming the debtor, not stored.

The token holds the debtor's id and an HMAC-SHA256 tag (128 bits) under a key derived
from QUITT_SECRET_KEY for this purpose alone, so nobody can make one for another
debtor. It does not expire: an unsubscribe link must keep working. It names no person
(the id is a number) and opens nothing but the choice to stop reminders.
"""

from __future__ import annotations

import struct
from typing import Final

from domain import tokens
from domain.config import Settings

_CONTEXT: Final = b"quitt/reminders-unsubscribe/v1"
_LAYOUT: Final = struct.Struct(">BQ")  # version, debtor id
_VERSION: Final = 1


def make_token(settings: Settings, debtor_id: int) -> str:
    """Return the unsubscribe token of a debtor."""
    key = tokens.derive_key(settings, _CONTEXT)
    return tokens.seal(key, _LAYOUT.pack(_VERSION, debtor_id))


def read_token(settings: Settings, token: str) -> int | None:
    """Return the debtor id a token names, or None when it is forged or malformed."""
    key = tokens.derive_key(settings, _CONTEXT)
    payload = tokens.unseal(key, token, size=_LAYOUT.size)
    if payload is None:
        return None
    version, debtor_id = _LAYOUT.unpack(payload)
    return int(debtor_id) if version == _VERSION else None


def unsubscribe_url(settings: Settings, debtor_id: int) -> str:
    """Return the absolute unsubscribe link (QUITT_PUBLIC_URL)."""
    return (
        f"{settings.public_url.rstrip('/')}/reminders/unsubscribe/{make_token(settings, debtor_id)}"
    )
