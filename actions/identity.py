"""How long a verified identity holds: one conversation, and never past a silence.

CONTRACT §4: a check holds for one conversation; a new session or the policy's
`verification_ttl_minutes` without a message need a new check. Whoever later holds
the same phone, or knows a sender id, must prove the identity again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, policy_named
from actions.texts import say

# What a new session keeps: the debtor's language (consent travels with the gateway's
# conversation record) and whether a person holds the conversation.
CARRIED_OVER = frozenset({"language", "handed_off"})

# The identity and everything that is about a claim: dropped when identity expires.
IDENTITY_SLOTS: dict[str, Any] = {
    "claim_reference": None,
    "identity_proof": None,
    "verified": False,
    "selected_claims": None,
    "debtor_id": None,
    "goal": None,
    "pending_offer": None,
    "counter_offers": 0.0,
    "awaiting": None,
}

# Set by a new session whose predecessor was verified: the next answer says why the bot
# asks again.
RECHECK_SLOT = "recheck"


def session_carry_over(slots: dict[str, Any]) -> list[EventType]:
    """Return the slot events a new session starts with, identity left behind."""
    events: list[EventType] = [
        SlotSet(name, value) for name, value in slots.items() if name in CARRIED_OVER and value
    ]
    if slots.get("verified"):
        events.append(SlotSet(RECHECK_SLOT, True))
    return events


def identity_expired(turn: Turn) -> bool:
    """Tell whether a verified identity has outlived the policy's silence limit."""
    ttl = policy_named("default").verification_ttl_minutes
    return bool(turn.verified) and not turn.verified_this_turn and turn.idle_minutes > ttl


def expire_identity(turn: Turn, dispatcher: CollectingDispatcher) -> tuple[Turn, list[EventType]]:
    """Drop an identity that no longer holds and say plainly that it is checked again.

    Returns the turn as the rest of the action must see it (unverified) and the events.
    """
    if identity_expired(turn):
        say(dispatcher, turn.domain, "utter_check_again", turn.language)
        slots = {**turn.slots, **IDENTITY_SLOTS, RECHECK_SLOT: False}
        events: list[EventType] = [SlotSet(k, v) for k, v in IDENTITY_SLOTS.items()]
        return replace(turn, slots=slots), events
    if turn.slot(RECHECK_SLOT):
        say(dispatcher, turn.domain, "utter_check_again", turn.language)
        return replace(turn, slots={**turn.slots, RECHECK_SLOT: False}), [
            SlotSet(RECHECK_SLOT, False)
        ]
    return turn, []
