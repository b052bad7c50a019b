"""Handing a conversation to a human: the bot stops collecting and says why, kindly.

High-stakes reasons (dispute, insolvency, bereavement, illness) are recorded when the
debtor says so plainly, or after they confirm the bot's one-line check ("Verstehe ich
richtig, dass Sie die Forderung bestreiten?"): an uncertain reading never creates a
dispute. Crisis cues and requests for a person are handed off at once (an unsure
reading of one that carries a claim reference starts the identity check instead).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import store
from actions.context import Turn, extract_reference
from actions.texts import say
from policy.escalation import detect_triggers
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


# Reasons checked with the debtor first unless stated plainly.
CONFIRM_FIRST = frozenset({"dispute", "insolvency", "bereavement", "vulnerability"})
# A reading of the classifier this sure counts as plain. The logistic regression is sure
# of itself far from its data too ("lol finally a debt collector I can text" read as an
# insolvency, blind round D): at 0.95 about one plain reason in twenty is checked first
# (the check costs one yes), and no ordinary message of the blind dev sets is recorded.
PLAIN_CONFIDENCE = 0.95
OFFER_AGENT = "offer_agent"


def said_in_words(turn: Turn, reason: str) -> bool:
    """Tell whether the keyword net finds `reason` in the message."""
    return any(t.reason == reason for t in detect_triggers(turn.text))


def stated_plainly(turn: Turn, reason: str) -> bool:
    """Tell whether the message says `reason` in so many words (or the classifier is sure)."""
    return said_in_words(turn, reason) or turn.intent_confidence >= PLAIN_CONFIDENCE


def offer_events(turn: Turn, reason: str) -> list[EventType]:
    """Wait for a yes or no to a person (or to a reason the bot checked)."""
    events: list[EventType] = [
        SlotSet("awaiting", OFFER_AGENT),
        SlotSet("agent_reason", reason),
        SlotSet("reason_text", turn.text[:2000] or None),
    ]
    if turn.slot("requested_slot"):
        # The identity check pauses; a "no" resumes it.
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return events


async def confirm_or_hand_off(
    turn: Turn, dispatcher: CollectingDispatcher, reason: str
) -> list[EventType]:
    """Hand off now when the reason is plain or needs no check; else ask the debtor."""
    if turn.abusive and reason in CONFIRM_FIRST and not said_in_words(turn, reason):
        # Insults the classifier read as a reason the words do not name ("scum company"
        # as a dispute): what the message plainly is, is abuse, and the gateway offers a
        # person for that right after this turn.
        say(dispatcher, turn.domain, "utter_ack_angry", turn.language)
        return []
    reference = None if turn.verified else extract_reference(turn.text)
    if reason == "human_request" and reference and not stated_plainly(turn, reason):
        # "ok whatever. my reference is 700000781" read, unsure, as a request for a
        # person: the reference starts the check it was given for.
        return [SlotSet("claim_reference", reference), FollowupAction("verify_form")]
    if reason not in CONFIRM_FIRST or stated_plainly(turn, reason):
        return await hand_off(turn, dispatcher, reason)
    return await check_reason(turn, dispatcher, reason)


async def check_reason(
    turn: Turn, dispatcher: CollectingDispatcher, reason: str
) -> list[EventType]:
    """Ask the debtor in one line whether `reason` is what they mean; record nothing yet."""
    await store.audit(
        "handoff_reason_checked",
        sender_id=turn.sender_id,
        reasons=(f"{reason}_unconfirmed",),
        data={"intent_confidence": round(turn.intent_confidence, 3)},
    )
    say(dispatcher, turn.domain, f"utter_confirm_{reason}", turn.language)
    return offer_events(turn, reason)


async def offer_crisis_help(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Give the help line at once and offer a person: the reading of a crisis is unsure."""
    say(dispatcher, turn.domain, "utter_crisis_help_offer", turn.language)
    await store.audit(
        "crisis_help_offered",
        sender_id=turn.sender_id,
        reasons=("crisis_unconfirmed",),
        data={"intent_confidence": round(turn.intent_confidence, 3)},
    )
    return offer_events(turn, "crisis")


async def hand_off(
    turn: Turn,
    dispatcher: CollectingDispatcher,
    reason: str,
    *,
    statement: dict[str, Any] | None = None,
) -> list[EventType]:
    """Record a handoff with a CONTRACT reason, tell the debtor, and stop the bot.

    `statement` goes on the handoff for the agent (the affordability check's figures).
    """
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
        dispute_text=_dispute_text(turn) if reason == "dispute" else None,
        statement=statement,
    )
    events: list[Any] = [
        SlotSet("handed_off", True),
        SlotSet("awaiting", None),
        SlotSet("pending_offer", None),
        SlotSet("reason_text", None),
    ]
    if turn.slot("requested_slot"):
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return events


def _dispute_text(turn: Turn) -> str:
    """Return the debtor's words of the dispute: the checked message after a "yes"."""
    if turn.slot("awaiting") == OFFER_AGENT and turn.slot("reason_text"):
        return str(turn.slot("reason_text"))
    return turn.text


# What the keyword net raises on any turn the classifier read otherwise: insolvency and a
# death are plain words and hand off; illness, dispute and person words are checked first
# ("mein Kind war krank, deshalb habe ich es vergessen" is no reason to stop collecting;
# "can an actual person look at my case" read as a question gets the offer of a person).
NET_HAND_OFF = frozenset({"insolvency", "bereavement"})
NET_CHECK = frozenset({"vulnerability", "dispute", "human_request"})


async def safety_net(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType] | None:
    """Act on a handoff reason the keyword net finds in a message the NLU read otherwise."""
    if turn.intent in INTENT_REASONS:
        return None  # the classifier saw a reason itself: its action decides
    for trigger in detect_triggers(turn.text):
        reason = trigger.reason
        if turn.slot("awaiting") == OFFER_AGENT and turn.slot("agent_reason") == reason:
            return None  # already checked: the debtor's answer is being read
        if reason in NET_HAND_OFF:
            return await hand_off(turn, dispatcher, reason)
        if reason in NET_CHECK:
            return await check_reason(turn, dispatcher, reason)
    return None
