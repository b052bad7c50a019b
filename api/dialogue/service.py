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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from api.dialogue import turn
from api.dialogue.agents import RESUME_EVENTS, message_view
from api.events.bus import CONSOLE, EventBus
from api.rasa.client import RasaClient
from api.sentiment import Reading, SentimentDetector
from domain.audit import service as audit_service
from domain.db import session_scope
from domain.handoffs import service as handoffs_service
from policy.abuse import is_abusive
from policy.escalation import CRISIS_HELP, detect_triggers
from policy.sentiment import SentimentDecision, escalation_decision

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
SENTIMENT_INTENT = "EXTERNAL_negative_sentiment"
# Set in `Inbound.metadata` by a channel whose text a speech model guessed (a call's
# transcript below the voice line's confidence bound): no mood is read from it, so no
# acknowledgement or offer of a person rests on words the caller may not have said.
UNSURE_TRANSCRIPT = "unsure_transcript"
# C0/C1 control characters except tab and newline; they carry nothing a debtor means.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A channel's own bookkeeping, run in the message's last unit of work with the whole answer.
Settle = Callable[[Session, list[dict[str, Any]]], None]


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


async def handle_inbound(
    inbound: Inbound, *, gateway: Gateway, settle: Settle | None = None
) -> list[dict[str, Any]]:
    """Record the message and, unless a human holds the conversation, answer through Rasa.

    Agent replies the debtor has not seen yet come first in the answer. The
    conversation's state is read in one unit of work before Rasa's turn and the
    bot's turns written in one after it; `settle`, if given, runs in that last
    unit with the whole answer (a channel's own bookkeeping: WhatsApp's options).
    """
    reading = await _read(gateway, inbound)
    sentiment = reading.to_audit() if reading else None

    def begin() -> turn.Turn:
        with session_scope() as db_session:
            return turn.begin(
                db_session,
                sender=inbound.sender,
                channel=inbound.channel,
                text=inbound.text,
                sentiment=sentiment,
            )

    async with gateway.lock(inbound.sender):
        state = await asyncio.to_thread(begin)
        await gateway.bus.publish(CONSOLE, {"type": "message", **state.message})
        waiting = agent_turns(inbound.sender, state.agent_replies)
        if state.held:
            # An agent has the conversation: the bot stays silent, the console sees it.
            # Only a crisis cue is answered at once, with crisis help.
            if any(t.reason == "crisis" for t in detect_triggers(inbound.text)):
                help_text = CRISIS_HELP.get(state.language or "de", CRISIS_HELP["de"])
                crisis = [{"recipient_id": inbound.sender, "text": help_text}]
                await _finish(inbound.sender, crisis, waiting + crisis, gateway.bus, settle)
                await gateway.bus.publish(
                    CONSOLE,
                    {"type": "alert", "reason": "crisis", "conversation_id": inbound.sender},
                )
                return waiting + crisis
            if settle is not None:
                await asyncio.to_thread(_settle_alone, settle, waiting)
            return waiting
        if state.closed:
            await gateway.rasa.append_events(sender=inbound.sender, events=RESUME_EVENTS)
        metadata = {**inbound.metadata, "channel": inbound.channel}
        if state.language and "language" not in metadata:
            metadata["language"] = state.language
        abusive = is_abusive(inbound.text) and mood_readable(inbound)
        mood = (
            escalation_decision(readings=state.readings, abusive=abusive)
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
            replies += await _offer_person(gateway, inbound.sender, mood, state, metadata)
        await _finish(inbound.sender, replies, waiting + replies, gateway.bus, settle)
        return waiting + replies


async def _offer_person(
    gateway: Gateway,
    sender: str,
    decision: SentimentDecision,
    state: turn.Turn,
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
                    data={"readings": [list(r) for r in state.readings]},
                )
            return held is not None

    if await asyncio.to_thread(already_handed_off):
        return []
    return await gateway.rasa.trigger_intent(
        sender=sender, intent=SENTIMENT_INTENT, metadata=metadata
    )


def _settle_alone(settle: Settle, answer: list[dict[str, Any]]) -> None:
    """Run a channel's bookkeeping in a unit of work of its own (nothing else to write)."""
    with session_scope() as db_session:
        settle(db_session, answer)


async def _finish(
    sender: str,
    replies: list[dict[str, Any]],
    answer: list[dict[str, Any]],
    bus: EventBus,
    settle: Settle | None,
) -> None:
    """Put bot turns in the transcript (with the channel's bookkeeping); show them."""

    def store() -> list[dict[str, Any]]:
        with session_scope() as db_session:
            stored = turn.finish(db_session, sender=sender, replies=replies)
            views = [message_view(m) for m in stored]
            if settle is not None:
                settle(db_session, answer)
            return views

    for view in await asyncio.to_thread(store):
        await bus.publish(CONSOLE, {"type": "message", **view})
