"""Unguessable, expiring links to a promise's QR code and agreement, signed, not stored.

The action server makes a link when it confirms a promise; the gateway serves it.
Both share only the settings (`quitt run` hands every process the same
QUITT_SECRET_KEY), so a link is a signed token rather than a database row: it
holds what to show (purpose, promise id, payee block, language) and until when,
and an HMAC-SHA256 tag over that, under a key derived from the secret key for
this purpose alone. Without the key nobody can make a token for another promise
or extend one, and a tag of 128 bits cannot be guessed. Forged, altered and
expired tokens are answered like unknown ones (404). The token names no person:
the promise id is a number, and the page it opens carries only the payment data
the chat already showed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from domain import tokens
from domain.config import Settings

Purpose = Literal["qr", "agreement"]
_PURPOSES: Final[tuple[Purpose, ...]] = ("qr", "agreement")
_LANGUAGES: Final = ("de", "en")
_VERSION: Final = 1
# version, purpose, language, block, promise id, expiry (Unix seconds)
_LAYOUT: Final = struct.Struct(">BBBBQQ")
_CONTEXT: Final = b"quitt/payment-links/v1"


@dataclass(frozen=True)
class Link:
    """What a valid token grants: one purpose for one promise, until `expires`."""

    purpose: Purpose
    promise_id: int
    language: str
    block: int  # the payee block of a QR code (0 for the first), 0 for an agreement
    expires: datetime


def link_key(settings: Settings) -> bytes:
    """Derive the links' own key from the secret key (never the key itself)."""
    return tokens.derive_key(settings, _CONTEXT)


def make_token(key: bytes, link: Link) -> str:
    """Return the URL-safe token for a link."""
    payload = _LAYOUT.pack(
        _VERSION,
        _PURPOSES.index(link.purpose),
        _LANGUAGES.index(link.language) if link.language in _LANGUAGES else 0,
        link.block,
        link.promise_id,
        int(link.expires.timestamp()),
    )
    return tokens.seal(key, payload)


def read_token(key: bytes, token: str, *, purpose: Purpose, now: datetime) -> Link | None:
    """Return the link a token grants, or None when it is forged, altered, expired or other."""
    payload = tokens.unseal(key, token, size=_LAYOUT.size)
    if payload is None:
        return None
    version, kind, language, block, promise_id, expires = _LAYOUT.unpack(payload)
    if version != _VERSION or kind >= len(_PURPOSES) or _PURPOSES[kind] != purpose:
        return None
    until = datetime.fromtimestamp(expires, UTC)
    if now >= until or language >= len(_LANGUAGES):
        return None
    return Link(
        purpose=purpose,
        promise_id=promise_id,
        language=_LANGUAGES[language],
        block=block,
        expires=until,
    )


def expiry(settings: Settings, now: datetime) -> datetime:
    """Return when links made now expire."""
    return now + timedelta(days=settings.payment_link_days)


def qr_url(settings: Settings, token: str) -> str:
    """Return the absolute URL of a QR code image (QUITT_PUBLIC_URL)."""
    return f"{settings.public_url.rstrip('/')}/pay/qr/{token}.png"


def agreement_url(settings: Settings, token: str, extension: Literal["html", "pdf"]) -> str:
    """Return the absolute URL of an agreement, as a page or a PDF."""
    return f"{settings.public_url.rstrip('/')}/pay/agreement/{token}.{extension}"
