"""The export as agents see it: identity data masked, as the console shows it.

An agent answering a request needs to see what is held and how it is linked, not
the very date of birth, postcode, phone number or e-mail address that prove who
someone is: with a claim reference they would let anyone pass the identity check.
The full export is for the person (`quitt privacy export`, or a supervisor's
explicit `unmasked=true`).

Masked are the values of the identity keys (`date_of_birth`, `postcode`, `email`,
phone numbers and WhatsApp addresses) and, in every other text of the export
(messages, attachment transcripts, dispute texts, agents' notes, remittance texts,
audit data), the person's own date of birth, postcode, phone number and e-mail
address wherever they are written: the spellings the erasure scan looks for
(`domain.privacy.scan.identity_needles`), and the usual variants ("23.7.61",
"23. Juli 1961", "0170 998 877 66"). Transcripts stay in, so that agents can answer
the request; what someone else's details a debtor typed stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, Final

from domain.claims.models import Debtor
from domain.privacy.scan import identity_needles
from policy.masking import mask_date_of_birth, mask_phone

# Keys whose values are (or may be) a phone number or a WhatsApp address.
_PHONE_KEYS = frozenset({"phone", "caller", "address", "conversation_id", "id", "sender_id"})
# What may stand between the digits of a phone number, and between a date's parts.
_PHONE_GAP: Final = r"[\s\-/().]*"
_DATE_GAP: Final = r"\s*[./\-]\s*"
_MONTHS: Final = (
    ("Januar", "January", "Jan", "Jänner"),
    ("Februar", "February", "Feb"),
    ("März", "Maerz", "March", "Mär", "Mar"),
    ("April", "Apr"),
    ("Mai", "May"),
    ("Juni", "June", "Jun"),
    ("Juli", "July", "Jul"),
    ("August", "Aug"),
    ("September", "Sept", "Sep"),
    ("Oktober", "October", "Okt", "Oct"),
    ("November", "Nov"),
    ("Dezember", "December", "Dez", "Dec"),
)
# A person erased already has this date of birth stored (domain.privacy.erase).
_NO_DATE_OF_BIRTH: Final = date(1, 1, 1)

Scrub = Callable[[str], str]


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


def _phone_pattern(spelling: str) -> str:
    """Return a pattern for a phone number written with any spaces, dashes or brackets."""
    digits = spelling.removeprefix("+")
    body = _PHONE_GAP.join(re.escape(digit) for digit in digits)
    if spelling.startswith("+"):
        return rf"(?:\+|00){_PHONE_GAP}{body}"
    return body


def _date_patterns(born: date) -> list[str]:
    """Return patterns for a date of birth as people write it, numbers or month names."""
    day, month = rf"0?{born.day}", rf"0?{born.month}"
    year = rf"(?:{born.year:04d}|{born.year % 100:02d})"
    names = "|".join(re.escape(name) for name in _MONTHS[born.month - 1])
    return [
        rf"{day}{_DATE_GAP}{month}{_DATE_GAP}{year}",
        rf"{born.year:04d}{_DATE_GAP}{month}{_DATE_GAP}{day}",
        rf"{day}\.?\s*(?:{names})\.?\s*,?\s*{year}",
        rf"(?:{names})\.?\s*{day}(?:st|nd|rd|th)?\s*,?\s*{year}",
    ]


def identity_scrub(debtor: Debtor) -> Scrub:
    """Return what masks the person's date of birth, postcode, phone and e-mail in a text."""
    needles = identity_needles(debtor)
    alternatives: list[tuple[str, str]] = []  # (pattern, masked) in the order tried
    masks = {
        "e-mail": mask_email(debtor.email or ""),
        "phone": mask_phone(debtor.phone or ""),
        "date of birth": mask_date_of_birth(debtor.date_of_birth),
    }
    alternatives += [(re.escape(n), masks["e-mail"]) for n in needles.get("e-mail", [])]
    alternatives += [(_phone_pattern(n), masks["phone"]) for n in needles.get("phone", [])]
    if debtor.date_of_birth != _NO_DATE_OF_BIRTH:
        spellings = [re.escape(n) for n in needles.get("date of birth", [])]
        spellings += _date_patterns(debtor.date_of_birth)
        alternatives += [(spelling, masks["date of birth"]) for spelling in spellings]
    if debtor.postcode:
        alternatives.append((re.escape(debtor.postcode), mask_postcode(debtor.postcode)))
    if not alternatives:
        return lambda text: text
    # Not inside a longer number or word: "80331" is no postcode in "DE1280331…".
    choices = (rf"(?<![0-9A-Za-z])(?P<g{i}>{p})(?!\d)" for i, (p, _) in enumerate(alternatives))
    pattern = re.compile("|".join(choices), re.IGNORECASE)

    def scrub(text: str) -> str:
        return pattern.sub(lambda m: alternatives[int(str(m.lastgroup)[1:])][1], text)

    return scrub


def _masked(key: str, value: Any, scrub: Scrub) -> Any:
    """Mask one value by what its key says it is, and the person's identity in any text."""
    if isinstance(value, dict):
        return {k: _masked(k, v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(key, item, scrub) for item in value]
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
    return scrub(value)


def mask_export(document: dict[str, Any], *, debtor: Debtor) -> dict[str, Any]:
    """Return a copy of an export with identity data masked for agents."""
    scrub = identity_scrub(debtor)
    return {key: _masked(key, value, scrub) for key, value in document.items()}
