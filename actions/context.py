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
from domain.config import get_settings
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


# Switching an established language takes a sentence, not a word ("ok", "hi", "yes please").
SWITCH_MIN_WORDS = 3
SWITCH_MIN_CONFIDENCE = 0.8


def _language_entity(latest: dict[str, Any]) -> tuple[str, float] | None:
    for entity in latest.get("entities") or []:
        if entity.get("entity") == "language" and entity.get("value") in LANGUAGES:
            return str(entity["value"]), float(entity.get("confidence") or 0.0)
    return None


def _debtor_message(event: dict[str, Any]) -> bool:
    """Tell whether a tracker event is a message of the debtor's own.

    An intent the gateway triggers (`EXTERNAL_…`, the offer of a person) is stored as a
    user event too, but the debtor wrote nothing.
    """
    intent = str((event.get("parse_data") or {}).get("intent", {}).get("name", ""))
    return event.get("event") == "user" and not intent.startswith("EXTERNAL_")


def _user_messages(events: list[dict[str, Any]]) -> int:
    """Count the debtor's messages in the tracker (external intents are no messages)."""
    return sum(1 for e in events if _debtor_message(e))


def choose_language(
    *,
    current: str | None,
    guess: tuple[str, float] | None,
    hint: str | None,
    text: str,
    first_message: bool,
) -> tuple[str, bool]:
    """Return the conversation's language after this message, and whether to record it.

    A first message is read for what it is (greetings included); once a language is
    established (by earlier messages, or a verified debtor's recorded language, which
    the gateway passes as the hint), only a clear sentence in the other language
    switches it: a short word never does.
    """
    established = current if current in LANGUAGES else hint if hint in LANGUAGES else None
    clear_switch = (
        len(text.split()) >= SWITCH_MIN_WORDS
        and guess is not None
        and (guess[1] >= SWITCH_MIN_CONFIDENCE)
    )
    if guess is None:
        chosen = established or DEFAULT_LANGUAGE
    elif established is None or first_message or clear_switch:
        chosen = guess[0]
    else:
        chosen = established
    # Nothing is recorded without evidence: a language stays open until a message shows it.
    return chosen, guess is not None and guess[0] == chosen


def _idle_minutes(events: list[dict[str, Any]]) -> float:
    """Return the minutes between the debtor's latest message and the one before it.

    External intents (the gateway's sentiment trigger) are no messages; without an
    earlier message, or without timestamps, the debtor was never idle (0).
    """
    stamps = [
        float(e["timestamp"])
        for e in events
        if _debtor_message(e) and isinstance(e.get("timestamp"), int | float)
    ]
    if len(stamps) < 2:
        return 0.0
    return max(0.0, (stamps[-1] - stamps[-2]) / 60)


def _debtor_metadata(latest: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the metadata the gateway sent with the debtor's own latest message.

    Rasa 3.6's `trigger_intent` drops the metadata of an intent the gateway triggers
    after a message (the offer of a person): then the debtor's last real message tells
    the channel and whether it held insults.
    """
    name = str((latest.get("intent") or {}).get("name") or "")
    if not name.startswith("EXTERNAL_"):
        return dict(latest.get("metadata") or {})
    for event in reversed(events):
        if _debtor_message(event):
            return dict(event.get("metadata") or {})
    return {}


def _verified_this_turn(events: list[dict[str, Any]]) -> bool:
    """Tell whether the identity check passed after the debtor's latest message."""
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "verified" and event.get("value"):
            return True
    return False


def _best_guess(latest: dict[str, Any]) -> str | None:
    """Return the top-ranked real intent of a message, fallback aside."""
    for ranked in latest.get("intent_ranking") or []:
        name = ranked.get("name")
        if name and name != "nlu_fallback":
            return str(name)
    return None


def _said_this_turn(events: list[dict[str, Any]]) -> tuple[str, ...]:
    """Return the bot's texts since the debtor's latest message."""
    said: list[str] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot" and event.get("text"):
            said.append(str(event["text"]))
    return tuple(reversed(said))


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
    intent_confidence: float = 0.0
    # "angry" or "distressed" when the gateway read a strong mood in this message.
    mood: str | None = None
    # What the bot already said in this turn (earlier actions of the same message).
    said: tuple[str, ...] = ()
    # The gateway found insults or threats in so many words (policy.abuse).
    abusive: bool = False
    # Minutes of silence before this message (identity expires after the policy's TTL).
    idle_minutes: float = 0.0
    # The identity check passed in this very turn (it cannot have expired yet).
    verified_this_turn: bool = False
    # The classifier's best intent when it was too unsure to commit (nlu_fallback).
    best_guess: str | None = None
    # Some message of the debtor's showed its language (a reference or a date does not).
    language_shown: bool = False

    @classmethod
    def from_tracker(cls, tracker: Tracker, domain: dict[str, Any]) -> Turn:
        """Build the turn from a tracker."""
        latest = tracker.latest_message or {}
        metadata = latest.get("metadata") or {}
        debtor = _debtor_metadata(latest, tracker.events)
        language, detected = choose_language(
            current=tracker.get_slot("language"),
            guess=_language_entity(latest),
            hint=metadata.get("language"),
            text=str(latest.get("text") or ""),
            first_message=_user_messages(tracker.events) <= 1,
        )
        return cls(
            sender_id=tracker.sender_id,
            channel=str(metadata.get("channel") or debtor.get("channel") or "rest"),
            language=language,
            language_detected=detected,
            text=str(latest.get("text") or ""),
            intent=(latest.get("intent") or {}).get("name"),
            entities=tuple(latest.get("entities") or ()),
            slots=dict(tracker.slots),
            domain=domain,
            fallback_streak=_fallback_streak(tracker.events),
            intent_confidence=float((latest.get("intent") or {}).get("confidence") or 0.0),
            mood=metadata.get("mood") if metadata.get("mood") in ("angry", "distressed") else None,
            said=_said_this_turn(tracker.events),
            abusive=debtor.get("abusive") is True,
            idle_minutes=_idle_minutes(tracker.events),
            verified_this_turn=_verified_this_turn(tracker.events),
            best_guess=_best_guess(latest),
            language_shown=any(
                _language_entity(e.get("parse_data") or {}) is not None
                for e in tracker.events
                if _debtor_message(e)
            )
            or _language_entity(latest) is not None,
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
