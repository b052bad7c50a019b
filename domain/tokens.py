"""Signed tokens that are not stored: a packed payload and its HMAC-SHA256 tag, in base32.

The payment links and the reminders' unsubscribe link are such tokens: each purpose
signs under its own key derived from QUITT_SECRET_KEY, so nobody without that key
can make or alter one, and a tag of 128 bits cannot be guessed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Final

from domain.config import Settings

TAG_BYTES: Final = 16
# Lower-case base32 (a-z, 2-7): no case to lose in a URL, and nothing that a log scan for
# account or phone numbers could take for one (no upper case, no 0, 1, 8 or 9).
_TOKEN: Final = re.compile(r"[a-z2-7]+")


def derive_key(settings: Settings, context: bytes) -> bytes:
    """Derive a purpose's own key from the secret key (never the key itself)."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, context, hashlib.sha256).digest()


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:TAG_BYTES]


def seal(key: bytes, payload: bytes) -> str:
    """Return the URL-safe token of a payload."""
    return base64.b32encode(payload + _tag(key, payload)).decode().rstrip("=").lower()


def unseal(key: bytes, token: str, *, size: int) -> bytes | None:
    """Return the payload of `size` bytes a token carries, or None if forged or malformed."""
    if len(token) != -(-(size + TAG_BYTES) * 8 // 5) or not _TOKEN.fullmatch(token):
        return None
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size + TAG_BYTES:
        return None
    payload, tag = raw[:size], raw[size:]
    return payload if hmac.compare_digest(tag, _tag(key, payload)) else None
