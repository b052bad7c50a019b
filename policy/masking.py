"""Masks for personal data that must appear in logs at all (fixed widths hide lengths)."""

from __future__ import annotations

import re
from datetime import date

_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")


def mask_date_of_birth(value: date | str) -> str:
    """Mask a date of birth down to its year: "**.**.1987"."""
    if isinstance(value, date):
        return f"**.**.{value.year:04d}"
    match = _YEAR.search(value)
    return f"**.**.{match.group(0) if match else '****'}"


def mask_phone(value: str) -> str:
    """Mask a phone number to its country code and last two digits: "+49******78".

    One rule for logs, the agent API and exports; the fixed width hides the length.
    """
    prefix = ""
    if value.lower().startswith("whatsapp:"):
        prefix, value = value[:9], value[9:]
    compact = re.sub(r"[\s\-/().]", "", value)
    if len(compact) < 10:
        return prefix + "******" + compact[-2:]
    country = compact[:3] if compact.startswith("+") else ""
    return prefix + country + "******" + compact[-2:]


def mask_iban(value: str) -> str:
    """Mask an IBAN, keeping country, check digits and the last four: "DE89********3000"."""
    compact = re.sub(r"\s", "", value).upper()
    if len(compact) < 12:
        return "********"
    return compact[:4] + "********" + compact[-4:]


def mask_name(value: str) -> str:
    """Mask a person's name to each word's first letter: "Erika Muster" -> "E*** M***"."""
    words = value.split()
    if not words:
        return "***"
    return " ".join(f"{word[:1]}***" for word in words)
