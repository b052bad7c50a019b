"""Identity checks: reading a date of birth or postcode from text, matching, lockout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from policy import reasons as r
from policy.config import CreditorPolicy
from policy.decisions import Decision
from policy.errors import InvalidRequest
from policy.masking import mask_date_of_birth, mask_iban, mask_phone

__all__ = [
    "CLIENT_MAX_FAILURES",
    "CLIENT_WINDOW",
    "VERIFICATION_RATE_LIMITED",
    "IdentityProof",
    "client_rate_limited",
    "identity_matches",
    "lock_until",
    "mask_date_of_birth",
    "mask_iban",
    "mask_phone",
    "parse_identity_proof",
    "verification_decision",
]

MAX_AGE_YEARS = 110
# Across conversations: failed identity checks one client (IP address, phone number) may
# make in a sliding window. Honest debtors rarely fail twice; one conversation locks at 3.
CLIENT_MAX_FAILURES = 5
CLIENT_WINDOW = timedelta(hours=1)
VERIFICATION_RATE_LIMITED = "verification_rate_limited"


@dataclass(frozen=True)
class IdentityProof:
    """A date of birth or a postcode the debtor typed.

    century_guessed is True for two-digit years ("14.3.87"); matching then compares the
    year modulo 100, so the guessed century never decides a match.
    """

    kind: Literal["date_of_birth", "postcode"]
    value: date | str
    century_guessed: bool = False


_MONTHS = {
    1: ("januar", "jaenner", "january", "jan"),
    2: ("februar", "febuar", "feber", "february", "febuary", "feb"),
    3: ("maerz", "marz", "march", "maer", "mrz", "mar"),
    4: ("april", "apr"),
    5: ("mai", "may"),
    6: ("juni", "june", "jun"),
    7: ("juli", "july", "jul"),
    8: ("august", "aug"),
    9: ("september", "sept", "sep"),
    10: ("oktober", "october", "okt", "oct"),
    11: ("november", "nov"),
    12: ("dezember", "december", "dez", "dec"),
}
_MONTH_NUMBER = {name: number for number, names in _MONTHS.items() for name in names}
_MONTH = "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True))
_YEAR = r"(\d{4}|\d{2})"

_ISO = re.compile(r"(?<!\d)(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})\s?([./-])\s?(\d{1,2})\s?\2\s?" + _YEAR + r"(?![\d])")
_DAY_MONTH = re.compile(
    r"(?<!\d)(\d{1,2})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?\b("
    + _MONTH
    + r")\b\.?,?\s*"
    + _YEAR
    + r"(?!\d)"
)
_MONTH_DAY = re.compile(
    r"\b(" + _MONTH + r")\b\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+" + _YEAR + r"(?!\d)"
)
# Five digits on their own: not part of a longer number, phone number, amount or reference.
_POSTCODE = re.compile(r"(?<![\w+\-/.,])(?<!\d\s)(\d{5})(?![\w\-/]|[.,]\d|\s\d)")

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def parse_identity_proof(text: str, *, today: date | None = None) -> IdentityProof | None:
    """Find a date of birth or a German postcode in the debtor's text; None if neither.

    `today` (optional) rejects impossible birth dates and picks the century of two-digit
    years so that the age is 0-110; without it two-digit years are read as 19xx.
    """
    folded = text.casefold().translate(_FOLD)
    found = _find_date(folded, today)
    if found is not None:
        return found
    match = _POSTCODE.search(folded)
    if match and not match.group(1).startswith("00"):
        return IdentityProof(kind="postcode", value=match.group(1))
    return None


def identity_matches(*, proof: IdentityProof, date_of_birth: date, postcode: str) -> bool:
    """Tell whether the proof matches the debtor's stored date of birth or postcode."""
    if proof.kind == "postcode":
        return isinstance(proof.value, str) and proof.value.strip() == postcode.strip()
    if not isinstance(proof.value, date):
        return False
    given, stored = proof.value, date_of_birth
    if proof.century_guessed:
        return (given.day, given.month, given.year % 100) == (
            stored.day,
            stored.month,
            stored.year % 100,
        )
    return given == stored


def lock_until(*, now: datetime, policy: CreditorPolicy) -> datetime:
    """Return when a lock that starts now ends."""
    _require_aware(now, "now")
    return now + timedelta(minutes=policy.lockout_minutes)


def verification_decision(
    *, failures: int, policy: CreditorPolicy, now: datetime, locked_until: datetime | None
) -> Decision:
    """Decide whether the debtor may try to verify again.

    `failures` counts the failures since the last lock ended; the caller resets it when it
    sets a lock. A lock still running, or reaching the maximum, means locked and hand off.
    """
    _require_aware(now, "now")
    if locked_until is not None:
        _require_aware(locked_until, "locked_until")
    locked = (locked_until is not None and now < locked_until) or (
        failures >= policy.max_verification_failures
    )
    if locked:
        return Decision(
            False, None, (r.VERIFICATION_LOCKED,), policy.version, r.VERIFICATION_LOCKED
        )
    return Decision(True, None, (r.VERIFICATION_ALLOWED,), policy.version)


def client_rate_limited(failures_in_window: int) -> bool:
    """Tell whether a client with this many recent failed checks may not try again."""
    if failures_in_window < 0:
        raise InvalidRequest("failures_in_window must not be negative")
    return failures_in_window >= CLIENT_MAX_FAILURES


def _require_aware(value: datetime, name: str) -> None:
    """Refuse naive datetimes: lock times are compared across time zones."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequest(f"{name} must be timezone-aware")


def _find_date(text: str, today: date | None) -> IdentityProof | None:
    """Return the first plausible date of birth in folded text."""
    candidates: list[tuple[int, str, str, str]] = []  # (position, day, month, year)
    for match in _ISO.finditer(text):
        candidates.append((match.start(), match.group(4), match.group(3), match.group(1)))
    for match in _NUMERIC.finditer(text):
        day, month = match.group(1), match.group(3)
        if match.group(2) == "/" and int(month) > 12 >= int(day):
            day, month = month, day  # "03/14/1987": only the US order makes sense
        candidates.append((match.start(), day, month, match.group(4)))
    for match in _DAY_MONTH.finditer(text):
        month = str(_MONTH_NUMBER[match.group(2)])
        candidates.append((match.start(), match.group(1), month, match.group(3)))
    for match in _MONTH_DAY.finditer(text):
        month = str(_MONTH_NUMBER[match.group(1)])
        candidates.append((match.start(), match.group(2), month, match.group(3)))
    for _, day, month, year in sorted(candidates):
        proof = _birth_date(int(day), int(month), year, today)
        if proof is not None:
            return proof
    return None


def _birth_date(day: int, month: int, year_text: str, today: date | None) -> IdentityProof | None:
    """Build a date-of-birth proof if the parts form a plausible birth date."""
    guessed = len(year_text) == 2
    year = int(year_text)
    if guessed:
        year += 1900
        if today is not None and year + 100 <= today.year:
            year += 100
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if guessed and today is not None and value > today:
        value = value.replace(year=value.year - 100) if _valid_shift(value) else value
    if not 1900 <= value.year <= 2100:
        return None
    if today is not None and not (today.year - MAX_AGE_YEARS <= value.year and value <= today):
        return None
    return IdentityProof(kind="date_of_birth", value=value, century_guessed=guessed)


def _valid_shift(value: date) -> bool:
    """Tell whether the date exists a century earlier (Feb 29 may not)."""
    try:
        value.replace(year=value.year - 100)
    except ValueError:
        return False
    return True
