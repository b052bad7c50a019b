"""The export as agents see it: identity data masked, as the console shows it.

An agent answering a request needs to see what is held and how it is linked, not
the very date of birth, postcode, phone number or e-mail address that prove who
someone is: with a claim reference they would let anyone pass the identity check.
The full export is for the person (`quitt privacy export`, or a supervisor's
explicit `unmasked=true`).
"""

from __future__ import annotations

from typing import Any

from policy.masking import mask_date_of_birth, mask_phone

# Keys whose values are (or may be) a phone number or a WhatsApp address.
_PHONE_KEYS = frozenset({"phone", "caller", "address", "conversation_id", "id", "sender_id"})


def mask_email(value: str) -> str:
    """Keep an e-mail address's first character and domain: "j***@example.de"."""
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_postcode(value: str) -> str:
    """Keep a postcode's region (its first two characters): "20***"."""
    return f"{value[:2]}***" if value else value


def _looks_like_phone(value: str) -> bool:
    """Tell whether a text is a phone number or a WhatsApp address."""
    bare = value.removeprefix("whatsapp:")
    return bare.startswith("+") and bare[1:].isdigit()


def _masked(key: str, value: Any) -> Any:
    """Mask one value by what its key says it is."""
    if isinstance(value, dict):
        return {k: _masked(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(key, item) for item in value]
    if not isinstance(value, str) or not value:
        return value
    if key == "date_of_birth":
        return mask_date_of_birth(value)
    if key == "email":
        return mask_email(value)
    if key == "postcode":
        return mask_postcode(value)
    if key in _PHONE_KEYS and _looks_like_phone(value):
        return mask_phone(value)
    return value


def mask_export(document: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of an export with identity data masked for agents."""
    return {key: _masked(key, value) for key, value in document.items()}
