"""Every channel hands debtor messages to `handle_inbound`; the answer comes back here too.

A message's way: a sentiment reading (in a worker thread), the transcript, the
handoff hold (a human has it: the bot stays silent, only a crisis cue gets help),
then Rasa. Mood changes the tone, not who answers (`policy.sentiment`): a strong
reading travels to the bot as `metadata.mood`, and the bot's answer opens with a
short acknowledgement; only sustained or explicit anger or distress makes the
gateway ask the bot to *offer* a person (`EXTERNAL_negative_sentiment`), and the
debtor decides.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from api.dialogue.agents import RESUME_EVENTS, message_view, take_undelivered
from api.events.bus import CONSOLE, EventBus
from api.rasa.client import RasaClient
from api.sentiment import Reading, SentimentDetector
from domain.audit import service as audit_service
from domain.conversations import service as conversations_service
from domain.conversations.models import Message
from domain.db import session_scope
from domain.handoffs import service as handoffs_service
from policy.abuse import is_abusive
from policy.escalation import CRISIS_HELP, detect_triggers
from policy.sentiment import SentimentDecision, escalation_decision

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
# How many of the debtor's latest readings the escalation rules look at.
TREND_MESSAGES = 5
# A reading of a one- or two-word message ("Hallo", "nein") says little about mood;
# it counts as evidence only when it is very sure ("Ihr Abzocker!!!").
SHORT_MESSAGE_WORDS = 3
SHORT_MESSAGE_MIN_SCORE = 0.9
SENTIMENT_INTENT = "EXTERNAL_negative_sentiment"
# Set in `Inbound.metadata` by a channel whose text a speech model guessed (a call's
# transcript below the voice line's confidence bound): no mood is read from it, so no
# acknowledgement or offer of a person rests on words the caller may not have said.
UNSURE_TRANSCRIPT = "unsure_transcript"
# C0/C1 control characters except tab and newline; they carry nothing a debtor means.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Normalise a debtor message: NFC, no control characters, trimmed."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


@dataclass(frozen=True)
class Inbound:
    """One debtor message as a channel received it."""

    sender: str
    channel: str
    text: str
    metadata: dict[str, Any]


@dataclass
class Gateway:
    """What the message pipeline needs: Rasa, the bus and (optionally) a sentiment detector."""

    rasa: RasaClient
    bus: EventBus
    sentiment: SentimentDetector | None = None
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, sender: str) -> asyncio.Lock:
        """Return the conversation's lock, so one debtor's messages are answered in order."""
        lock = self._locks.get(sender)
        if lock is None:
            lock = self._locks[sender] = asyncio.Lock()
        return lock


@dataclass(frozen=True)
class _Recorded:
    held: bool
    closed: bool
    language: str | None
    message: dict[str, Any]
    agent_replies: list[dict[str, Any]]
    readings: list[tuple[str, float]]


def _readings(db_session: Session, sender: str) -> list[tuple[str, float]]:
    """Return the sentiment readings of the debtor's latest messages, oldest first."""
    found = []
    for message in conversations_service.transcript(
        db_session=db_session, sender_id=sender, limit=TREND_MESSAGES * 3
    ):
        sentiment = (message.data or {}).get("sentiment")
        if message.author != "debtor" or not sentiment:
            continue
        score = float(sentiment["score"])
        if len(message.text.split()) >= SHORT_MESSAGE_WORDS or score >= SHORT_MESSAGE_MIN_SCORE:
            found.append((str(sentiment["label"]), score))
    return found[-TREND_MESSAGES:]


def _sync_trail(db_session: Session, sender: str) -> None:
    """Give an open handoff the whole mood trail of its conversation."""
    handoff = handoffs_service.active_for(db_session=db_session, conversation_id=sender)
    if handoff is None:
        return
    trail = [
        {**(m.data or {})["sentiment"], "message_id": m.id, "at": m.created_at.isoformat()}
        for m in conversations_service.transcript(db_session=db_session, sender_id=sender)
        if m.author == "debtor" and (m.data or {}).get("sentiment")
    ]
    if trail != handoff.sentiment_trail:
        handoff.sentiment_trail = trail
        db_session.flush()


def _record_inbound(db_session: Session, inbound: Inbound, reading: Reading | None) -> _Recorded:
    """Store the message; tell whether a human holds the conversation; take agent replies."""
    conversation = conversations_service.get_or_create(
        db_session=db_session, sender_id=inbound.sender, channel=inbound.channel
    )
    message = conversations_service.add_message(
        db_session=db_session,
        sender_id=inbound.sender,
        direction="in",
        author="debtor",
        text=inbound.text,
        data={"sentiment": reading.to_audit()} if reading else None,
    )
    held = handoffs_service.active_for(db_session=db_session, conversation_id=inbound.sender)
    if held is not None:
        _sync_trail(db_session, inbound.sender)
    replies = [
        message_view(m) for m in take_undelivered(db_session=db_session, sender_id=inbound.sender)
    ]
    closed = held is None and conversation.state == "closed"
    if closed:
        # An agent closed the case; a new message starts over with the bot.
        conversations_service.set_state(
            db_session=db_session, sender_id=inbound.sender, state="bot"
        )
    return _Recorded(
        held is not None,
        closed,
        conversation.language,
        message_view(message),
        replies,
        _readings(db_session, inbound.sender),
    )


def _record_outbound(
    db_session: Session, sender: str, replies: list[dict[str, Any]]
) -> list[Message]:
    stored = []
    for reply in replies:
        extra = {k: v for k, v in reply.items() if k in ("buttons", "custom", "image")}
        stored.append(
            conversations_service.add_message(
                db_session=db_session,
                sender_id=sender,
                direction="out",
                author="bot",
                text=str(reply.get("text") or ""),
                data=extra or None,
            )
        )
    _sync_trail(db_session, sender)
    return stored


def agent_turns(sender: str, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return agent replies in Rasa's REST-channel shape, marked as coming from a person."""
    return [
        {"recipient_id": sender, "text": r["text"], "custom": {"author": "agent"}} for r in replies
    ]


def has_words(text: str) -> bool:
    """Tell whether a message has letters; references, dates and amounts carry no mood."""
    return any(ch.isalpha() for ch in text)


def mood_readable(inbound: Inbound) -> bool:
    """Tell whether a message's words may carry a mood (not a guessed transcript)."""
    return inbound.metadata.get(UNSURE_TRANSCRIPT) is not True


async def _read(gateway: Gateway, inbound: Inbound) -> Reading | None:
    if gateway.sentiment is None or not has_words(inbound.text) or not mood_readable(inbound):
        # A claim reference or a date of birth says nothing about mood: no model call.
        return None
    language = inbound.metadata.get("language")
    try:
        return await asyncio.to_thread(gateway.sentiment.read, inbound.text, language)
    except Exception:  # a broken model must never cost the debtor their answer
        logger.exception("sentiment reading failed; the message goes on without one")
        return None


async def handle_inbound(inbound: Inbound, *, gateway: Gateway) -> list[dict[str, Any]]:
    """Record the message and, unless a human holds the conversation, answer through Rasa.

    Agent replies the debtor has not seen yet come first in the answer.
    """
    reading = await _read(gateway, inbound)

    def record() -> _Recorded:
        with session_scope() as db_session:
            return _record_inbound(db_session, inbound, reading)

    async with gateway.lock(inbound.sender):
        recorded = await asyncio.to_thread(record)
        await gateway.bus.publish(CONSOLE, {"type": "message", **recorded.message})
        waiting = agent_turns(inbound.sender, recorded.agent_replies)
        if recorded.held:
            # An agent has the conversation: the bot stays silent, the console sees it.
            # Only a crisis cue is answered at once, with crisis help.
            if any(t.reason == "crisis" for t in detect_triggers(inbound.text)):
                help_text = CRISIS_HELP.get(recorded.language or "de", CRISIS_HELP["de"])
                crisis = [{"recipient_id": inbound.sender, "text": help_text}]
                await _store_and_publish(inbound.sender, crisis, gateway.bus)
                await gateway.bus.publish(
                    CONSOLE,
                    {"type": "alert", "reason": "crisis", "conversation_id": inbound.sender},
                )
                return waiting + crisis
            return waiting
        if recorded.closed:
            await gateway.rasa.append_events(sender=inbound.sender, events=RESUME_EVENTS)
        metadata = {**inbound.metadata, "channel": inbound.channel}
        if recorded.language and "language" not in metadata:
            metadata["language"] = recorded.language
        abusive = is_abusive(inbound.text) and mood_readable(inbound)
        mood = (
            escalation_decision(readings=recorded.readings, abusive=abusive)
            if reading is not None or abusive
            else None
        )
        if mood is not None and mood.acknowledge:
            metadata["mood"] = mood.acknowledge
        if abusive:
            metadata["abusive"] = True
        replies = await gateway.rasa.send(
            sender=inbound.sender, text=inbound.text, metadata=metadata
        )
        if mood is not None and mood.escalate:
            metadata.pop("mood", None)
            metadata.pop("abusive", None)
            replies += await _offer_person(gateway, inbound.sender, mood, recorded, metadata)
        await _store_and_publish(inbound.sender, replies, gateway.bus)
        return waiting + replies


async def _offer_person(
    gateway: Gateway,
    sender: str,
    decision: SentimentDecision,
    recorded: _Recorded,
    metadata: dict[str, Any],
) -> list[dict[str, Any]]:
    """Have the bot offer a person for sustained or explicit mood, unless one already has it."""

    def already_handed_off() -> bool:
        with session_scope() as db_session:
            held = handoffs_service.active_for(db_session=db_session, conversation_id=sender)
            if held is None:
                audit_service.record(
                    db_session=db_session,
                    kind="sentiment_offer",
                    conversation_id=sender,
                    reasons=decision.reason_codes,
                    data={"readings": [list(r) for r in recorded.readings]},
                )
            return held is not None

    if await asyncio.to_thread(already_handed_off):
        return []
    return await gateway.rasa.trigger_intent(
        sender=sender, intent=SENTIMENT_INTENT, metadata=metadata
    )


async def _store_and_publish(sender: str, replies: list[dict[str, Any]], bus: EventBus) -> None:
    """Put bot turns in the transcript and show them in the console."""

    def store() -> list[dict[str, Any]]:
        with session_scope() as db_session:
            return [message_view(m) for m in _record_outbound(db_session, sender, replies)]

    for view in await asyncio.to_thread(store):
        await bus.publish(CONSOLE, {"type": "message", **view})
