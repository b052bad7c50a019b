"""Identity verification: claim reference, then date of birth or postcode; lockout after 3.

Across conversations, `api.ratelimit` limits failed checks per client (hashed IP
address from the gateway, WhatsApp phone number): a client over the limit is
refused like a locked conversation, before its answer is compared with anything.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import conversation_state, store
from actions.base import QuittAction, acknowledge, disclosure, language_events
from actions.claims import present_claims
from actions.context import Turn, extract_reference, now, policy_named, reference_variants
from actions.escalation import INTENT_REASONS, hand_off
from actions.texts import LANGUAGES, say
from domain.config import get_settings
from domain.ratelimit import VerificationLimiter, client_keys
from policy.escalation import detect_triggers
from policy.identity import (
    VERIFICATION_RATE_LIMITED,
    identity_matches,
    lock_until,
    parse_identity_proof,
    verification_decision,
)

# Written into the form slots instead of what the debtor typed, so that a date of
# birth never lingers in a slot.
CHECKED = "checked"
STOPPED = "stopped"


@lru_cache(maxsize=1)
def limiter() -> VerificationLimiter:
    """Return the process's verification limiter (made on first use, never at import)."""
    return VerificationLimiter(get_settings().redis_url)


def _clients(tracker: Tracker) -> list[str]:
    """Return the hashed clients (IP, phone) the latest message came from."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return client_keys(sender_id=tracker.sender_id, metadata=metadata)


# Reasons whose plain words hand off in the middle of the check, whatever the classifier
# read (a crisis is handled before everything else).
HANDED_OFF_DURING_CHECK = frozenset({"insolvency", "bereavement", "human_request"})

# Intents that bot/data/rules*.yml answer in the middle of the identity check.
ANSWERED_DURING_CHECK = frozenset(
    {"bot_challenge", "ask_privacy", "privacy_request", "ask_consequences", "ask_payment_info"}
)


def _holds_answer(tracker: Tracker, text: str) -> bool:
    """Tell whether a message the classifier read as a question answers the check too.

    "Mein Geburtsdatum gebe ich ungern im Chat an, meine Postleitzahl ist 20249." reads
    as a privacy question, but it holds the postcode the check asked for: take it.
    """
    requested = tracker.get_slot("requested_slot")
    if requested == "identity_proof":
        return parse_identity_proof(text) is not None
    if requested == "claim_reference":
        return extract_reference(text) is not None
    return False


class ValidateVerifyForm(FormValidationAction):
    """Validates the verification form's answers against the claim's debtor."""

    def name(self) -> str:
        """Name the action."""
        return "validate_verify_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Run the disclosure on a first turn, then the slot validation."""
        turn = Turn.from_tracker(tracker, domain)
        if any(t.reason == "crisis" for t in detect_triggers(turn.text)):
            # A crisis cue the classifier took for an answer: help first, then a human.
            await hand_off(turn, dispatcher, "crisis")
            return [
                *disclosure(turn, dispatcher),
                SlotSet("handed_off", True),
                SlotSet("claim_reference", STOPPED),
                SlotSet("identity_proof", STOPPED),
            ]
        reason_intent = turn.intent in INTENT_REASONS and not str(turn.intent).startswith(
            "EXTERNAL_"
        )
        plain = [
            t.reason for t in detect_triggers(turn.text) if t.reason in HANDED_OFF_DURING_CHECK
        ]
        if plain and not reason_intent:
            # Plain words of a reason the classifier took for an answer: act on them.
            await hand_off(turn, dispatcher, plain[0])
            return [
                *disclosure(turn, dispatcher),
                SlotSet("handed_off", True),
                SlotSet("claim_reference", STOPPED),
                SlotSet("identity_proof", STOPPED),
            ]
        if reason_intent or (
            turn.intent in ANSWERED_DURING_CHECK and not _holds_answer(tracker, turn.text)
        ):
            # The rules hand off (or check the reason) for these intents mid-check.
            # A question the form does not take as an answer: no events, so Rasa rejects
            # the form and the intent's rule answers, then the check goes on (that action
            # does the disclosure and the language); a language slot set here would keep
            # the form, and the question would go unanswered.
            return []
        events = disclosure(turn, dispatcher) + language_events(turn)
        if turn.language_detected:
            await conversation_state.set_language(turn.sender_id, turn.channel, turn.language)
        acknowledge(turn, dispatcher)
        return events + await super().run(dispatcher, tracker, domain)

    async def extract_identity_proof(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Take a date of birth or postcode given with the reference in one message.

        "260000117, born 14/03/1987": the reference question's answer holds the proof too,
        so the debtor is not asked for what they already wrote.
        """
        text = str((tracker.latest_message or {}).get("text") or "")
        if tracker.get_slot("requested_slot") == "identity_proof":
            # The slot's own mapping skips questions; a question holding the answer
            # (see _holds_answer) is taken here.
            intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
            if intent in ANSWERED_DURING_CHECK and _holds_answer(tracker, text):
                return {"identity_proof": text}
            return {}
        if tracker.get_slot("requested_slot") not in (None, "claim_reference"):
            return {}
        reference = extract_reference(text)
        if reference is None:
            return {}
        rest = re.sub(re.escape(reference), " ", text, count=1, flags=re.IGNORECASE)
        if parse_identity_proof(rest) is None:
            return {}
        return {"identity_proof": rest}

    async def _locked(
        self, turn: Turn, dispatcher: CollectingDispatcher, clients: list[str]
    ) -> dict[str, Any] | None:
        policy = policy_named("default")
        moment = now()
        state = await conversation_state.conversation(turn.sender_id, turn.channel)
        decision = verification_decision(
            failures=state.failed_verifications,
            policy=policy,
            now=moment,
            locked_until=state.locked_until,
        )
        if decision.allowed and not await limiter().blocked(clients, now=moment):
            return None
        if decision.allowed:
            # The client used up its tries in other conversations: this one locks too,
            # and the debtor hears only what a locked conversation says.
            await conversation_state.lock(turn.sender_id, lock_until(now=moment, policy=policy))
            await store.audit(
                "verification_rate_limited",
                sender_id=turn.sender_id,
                reasons=(VERIFICATION_RATE_LIMITED,),
            )
        await hand_off(turn, dispatcher, "verification_locked")
        return {"claim_reference": STOPPED, "identity_proof": STOPPED, "handed_off": True}

    async def validate_claim_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Accept anything shaped like a reference; whether it exists is not revealed."""
        turn = Turn.from_tracker(tracker, domain)
        if value in (STOPPED, CHECKED):
            return {"claim_reference": value}
        locked = await self._locked(turn, dispatcher, _clients(tracker))
        if locked:
            return locked
        reference = extract_reference(str(value or ""))
        if reference is None:
            if tracker.get_slot("requested_slot") != "claim_reference":
                # The message that opened the form ("Hallo, ich bin knapp bei Kasse") is
                # no answer to a question not yet asked: the form simply asks.
                return {"claim_reference": None}
            say(dispatcher, domain, "utter_reference_invalid", turn.language)
            return {"claim_reference": None}
        return {"claim_reference": reference}

    async def validate_identity_proof(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """Check date of birth or postcode; count failures and lock after the policy's limit."""
        turn = Turn.from_tracker(tracker, domain)
        if value in (STOPPED, CHECKED):
            return {"identity_proof": value}
        slot = tracker.get_slot("claim_reference")
        reference = extract_reference(str(slot or "")) or slot
        proof = parse_identity_proof(str(value or ""))
        if proof is None or not reference:
            if tracker.get_slot("requested_slot") == "identity_proof":
                say(dispatcher, domain, "utter_proof_invalid", turn.language)
            return {"identity_proof": None}
        # Checked again here: other conversations of this client may have failed meanwhile.
        clients = _clients(tracker)
        locked = await self._locked(turn, dispatcher, clients)
        if locked:
            return locked
        record = None
        for spelling in reference_variants(reference):
            record = record or await store.identity_record(spelling)
        if record is not None and identity_matches(
            proof=proof, date_of_birth=record.date_of_birth, postcode=record.postcode
        ):
            await conversation_state.mark_verified(
                turn.sender_id, turn.channel, record.reference, record.debtor_id
            )
            await store.audit(
                "verification_succeeded",
                sender_id=turn.sender_id,
                claim_reference=record.reference,
                reasons=("identity_verified",),
            )
            return {
                "identity_proof": CHECKED,
                "verified": True,
                "debtor_id": float(record.debtor_id),
                "claim_reference": record.reference,
            }
        return await self._failed(turn, dispatcher, clients)

    async def _failed(
        self, turn: Turn, dispatcher: CollectingDispatcher, clients: list[str]
    ) -> dict[str, Any]:
        policy = policy_named("default")
        moment = now()
        failures = await conversation_state.record_failed_verification(
            turn.sender_id, turn.channel, moment
        )
        await limiter().record_failure(clients, sender_id=turn.sender_id, now=moment)
        decision = verification_decision(
            failures=failures, policy=policy, now=moment, locked_until=None
        )
        await store.audit(
            "verification_failed",
            sender_id=turn.sender_id,
            decision=decision,
            data={"failures": failures},
        )
        if not decision.allowed:
            await conversation_state.lock(turn.sender_id, lock_until(now=moment, policy=policy))
            await hand_off(turn, dispatcher, "verification_locked")
            return {"claim_reference": STOPPED, "identity_proof": STOPPED, "handed_off": True}
        remaining = policy.max_verification_failures - failures
        say(
            dispatcher, turn.domain, "utter_verification_failed", turn.language, remaining=remaining
        )
        return {"claim_reference": None, "identity_proof": None}


class ActionVerificationDone(QuittAction):
    """After the form: confirm and explain what is owed, then resume the debtor's goal."""

    def name(self) -> str:
        """Name the action."""
        return "action_verification_done"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Present the debtor's claims."""
        if not turn.verified:
            return []
        events: list[EventType] = []
        debtor_id = turn.slot("debtor_id")
        if not turn.language_shown and debtor_id is not None:
            # Nothing the debtor wrote showed a language (a reference, a date): the
            # language recorded for them with the claim wins over the default.
            recorded = await conversation_state.debtor_language(int(debtor_id))
            if recorded in LANGUAGES and recorded != turn.language:
                turn = replace(turn, language=recorded)
                events.append(SlotSet("language", recorded))
                await conversation_state.set_language(turn.sender_id, turn.channel, recorded)
        say(dispatcher, turn.domain, "utter_verified", turn.language)
        return events + await present_claims(turn, dispatcher, goal=turn.slot("goal"))
