"""What an action knows about the current turn: who, which language, what was said."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker

from actions.texts import DEFAULT_LANGUAGE, LANGUAGES
from api.config import get_settings
from policy.config import CreditorPolicy, PolicyBook, load_policies

# A claim reference: 6-20 letters/digits (with - or /) holding at least 5 digits,
# optionally after a short letter prefix ("AZ-260000117"). A 5-digit postcode, a
# date and a phone number ("+49…") are not references.
_REFERENCE = re.compile(r"(?<![\w./+-])([A-Za-z]{0,4}[-/]?\d[\d/-]{4,18}\d)(?![\w/-]|[.,]\d)")
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")


def extract_reference(text: str) -> str | None:
    """Return the claim reference in a message, or None."""
    for match in _REFERENCE.finditer(text or ""):
        candidate = match.group(1)
        if _DATE_LIKE.match(candidate):
            continue
        digits = sum(ch.isdigit() for ch in candidate)
        if digits >= 6 or (digits >= 5 and not candidate.isdigit()):
            return candidate.upper()
    return None


def reference_variants(reference: str) -> list[str]:
    """Return the spellings to look a reference up by: as given, then digits only."""
    digits = "".join(ch for ch in reference if ch.isdigit())
    return [reference] if digits == reference else [reference, digits]


@lru_cache(maxsize=1)
def policies() -> PolicyBook:
    """Return the creditor policies, loaded once from the configured file."""
    return load_policies(get_settings().policy_file)


def policy_named(name: str) -> CreditorPolicy:
    """Return a creditor policy by name, falling back to `default` when unknown."""
    book = policies()
    try:
        return book.get(name)
    except Exception:  # an unknown policy name in imported data must not break a conversation
        return book.get("default")


def now() -> datetime:
    """Return the current time in the service's time zone."""
    return datetime.now(ZoneInfo(get_settings().timezone))


def today() -> date:
    """Return today's date in the service's time zone."""
    return now().date()


def _fallback_streak(events: list[dict[str, Any]]) -> int:
    """Count the debtor's most recent messages in a row that were not understood."""
    streak = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        streak += 1
    return streak


@dataclass(frozen=True)
class Turn:
    """The current turn, read once from the tracker."""

    sender_id: str
    channel: str
    language: str
    language_detected: bool
    text: str
    intent: str | None
    entities: tuple[dict[str, Any], ...]
    slots: dict[str, Any]
    domain: dict[str, Any]
    fallback_streak: int = 0

    @classmethod
    def from_tracker(cls, tracker: Tracker, domain: dict[str, Any]) -> Turn:
        """Build the turn from a tracker."""
        latest = tracker.latest_message or {}
        metadata = latest.get("metadata") or {}
        detected = any(e.get("entity") == "language" for e in latest.get("entities") or [])
        language = tracker.get_slot("language") or metadata.get("language") or DEFAULT_LANGUAGE
        if language not in LANGUAGES:
            language = DEFAULT_LANGUAGE
        return cls(
            sender_id=tracker.sender_id,
            channel=str(metadata.get("channel") or "rest"),
            language=language,
            language_detected=detected,
            text=str(latest.get("text") or ""),
            intent=(latest.get("intent") or {}).get("name"),
            entities=tuple(latest.get("entities") or ()),
            slots=dict(tracker.slots),
            domain=domain,
            fallback_streak=_fallback_streak(tracker.events),
        )

    def slot(self, name: str) -> Any:
        """Return a slot value."""
        return self.slots.get(name)

    def entity(self, name: str) -> str | None:
        """Return the first value of an entity in the latest message."""
        for entity in self.entities:
            if entity.get("entity") == name and entity.get("value") not in (None, ""):
                return str(entity["value"])
        return None

    def amount(self) -> Decimal | None:
        """Return the amount the debtor named in this message, if any."""
        raw = self.entity("amount")
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            return None
        return value if value.is_finite() and value > 0 else None

    def date(self) -> date | None:
        """Return the (future) date the debtor named in this message, if any."""
        raw = self.entity("date")
        if raw is None:
            return None
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            return None
        return value if value >= today() else None

    @property
    def verified(self) -> bool:
        """Return whether identity was verified in this conversation."""
        return bool(self.slot("verified"))
