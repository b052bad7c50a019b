"""The unsubscribe link of reminder e-mails: a signed token naming the debtor, not stored.

The token holds the debtor's id and an HMAC-SHA256 tag (128 bits) under a key derived
from QUITT_SECRET_KEY for this purpose alone, so nobody can make one for another
debtor. It does not expire: an unsubscribe link must keep working. It names no person
(the id is a number) and opens nothing but the choice to stop reminders.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from typing import Final

from domain.config import Settings

_CONTEXT: Final = b"quitt/reminders-unsubscribe/v1"
_LAYOUT: Final = struct.Struct(">BQ")  # version, debtor id
_VERSION: Final = 1
_TAG_BYTES: Final = 16
_TOKEN_CHARS: Final = -(-(_LAYOUT.size + _TAG_BYTES) * 8 // 5)
# Lower-case base32, as the payment links: nothing a log scan takes for a number.
_TOKEN: Final = re.compile(r"[a-z2-7]+")


def _key(settings: Settings) -> bytes:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, _CONTEXT, hashlib.sha256).digest()


def make_token(settings: Settings, debtor_id: int) -> str:
    """Return the unsubscribe token of a debtor."""
    payload = _LAYOUT.pack(_VERSION, debtor_id)
    tag = hmac.new(_key(settings), payload, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.b32encode(payload + tag).decode().rstrip("=").lower()


def read_token(settings: Settings, token: str) -> int | None:
    """Return the debtor id a token names, or None when it is forged or malformed."""
    if len(token) != _TOKEN_CHARS or not _TOKEN.fullmatch(token):
        return None
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError):
        return None
    payload, tag = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    expected = hmac.new(_key(settings), payload, hashlib.sha256).digest()[:_TAG_BYTES]
    if len(raw) != _LAYOUT.size + _TAG_BYTES or not hmac.compare_digest(tag, expected):
        return None
    version, debtor_id = _LAYOUT.unpack(payload)
    return int(debtor_id) if version == _VERSION else None


def unsubscribe_url(settings: Settings, debtor_id: int) -> str:
    """Return the absolute unsubscribe link (QUITT_PUBLIC_URL)."""
    return (
        f"{settings.public_url.rstrip('/')}/reminders/unsubscribe/{make_token(settings, debtor_id)}"
    )
