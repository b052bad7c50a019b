"""Handing a conversation to a human: the bot stops collecting and says why, kindly."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import store
from actions.context import Turn
from actions.texts import say
from policy.reasons import HANDOFF_REASONS

INTENT_REASONS = {
    "human_request": "human_request",
    "dispute": "dispute",
    "insolvency": "insolvency",
    "bereavement": "bereavement",
    "vulnerability": "vulnerability",
    "crisis": "crisis",
    "EXTERNAL_negative_sentiment": "negative_sentiment",
}


def verified_reference(turn: Turn) -> str | None:
    """Return the claim the conversation is about once verified, else None."""
    if not turn.verified:
        return None
    selected = turn.slot("selected_claims") or []
    return selected[0] if selected else turn.slot("claim_reference")


async def hand_off(turn: Turn, dispatcher: CollectingDispatcher, reason: str) -> list[EventType]:
    """Record a handoff with a CONTRACT reason, tell the debtor, and stop the bot."""
    if reason not in HANDOFF_REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    # Crisis help comes first, before anything is written.
    say(dispatcher, turn.domain, f"utter_handoff_{reason}", turn.language)
    reference = verified_reference(turn)
    await store.open_handoff(
        sender_id=turn.sender_id,
        channel=turn.channel,
        reason=reason,
        language=turn.language,
        claim_reference=reference,
        dispute_text=turn.text if reason == "dispute" else None,
    )
    events: list[Any] = [
        SlotSet("handed_off", True),
        SlotSet("awaiting", None),
        SlotSet("pending_offer", None),
    ]
    if turn.slot("requested_slot"):
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return events
