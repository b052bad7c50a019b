"""The small turns: greeting, static answers, yes/no, bare answers, fallbacks, handoff."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import affordability, conversation_state
from actions.base import (
    QuittAction,
    decline_pending,
    named_amounts,
    pending_amount,
    start_verification,
)
from actions.claims import (
    CANNOT_PAY,
    GENTLE_OPTIONS,
    gentle_options,
    picked_claims,
    present_claims,
    select,
    selected_claims,
)
from actions.context import Turn, extract_reference
from actions.escalation import (
    INTENT_REASONS,
    OFFER_AGENT,
    confirm_or_hand_off,
    hand_off,
    offer_events,
)
from actions.identity import session_carry_over
from actions.offers import (
    accept_pending,
    ask_payment_way,
    make_offer,
    payment_goal,
    resume_goal,
    smallest_instalment,
)
from actions.terms import asks_for_plan, monthly_amount
from actions.texts import LANGUAGES, say
from domain.config import get_settings
from policy.escalation import detect_triggers

_REPLIES = {
    "goodbye": "utter_goodbye",
    "thank": "utter_thank",
    "bot_challenge": "utter_bot_challenge",
    "ask_consequences": "utter_consequences",
    "ask_privacy": "utter_privacy",
    "ask_payment_info": "utter_payment_info",
    "chitchat": "utter_chitchat",
    "out_of_scope": "utter_out_of_scope",
}


class ActionSessionStart(Action):
    """Starts a session: keeps the language, drops the identity, re-discloses."""

    def name(self) -> str:
        """Name the action."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Return the session start events."""
        # Identity lasts one conversation: only the language (and a person's hold)
        # carry over; the next answer says plainly why the bot checks again.
        events: list[EventType] = [SessionStarted(), *session_carry_over(tracker.slots)]
        if tracker.get_slot("verified"):
            await conversation_state.forget_verification(tracker.sender_id)
        metadata = tracker.get_slot("session_started_metadata") or {}
        if metadata.get("language") in LANGUAGES:
            events.append(SlotSet("language", metadata["language"]))
        # Every session's first answer says again that this is an automated assistant.
        events.append(SlotSet("disclosed", False))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionGreet(QuittAction):
    """Greets, and opens the identity check when it is still needed."""

    def name(self) -> str:
        """Name the action."""
        return "action_greet"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Greet and move towards a solution."""
        say(dispatcher, turn.domain, "utter_greet", turn.language)
        if not turn.verified:
            return await start_verification(turn, None)
        claims = await selected_claims(turn)
        if claims:
            return ask_payment_way(turn, dispatcher, claims, key="utter_how_can_i_help")
        return await present_claims(turn, dispatcher, goal=None)


class ActionReply(QuittAction):
    """Answers questions that need no claim data: bot, privacy, consequences, small talk."""

    def name(self) -> str:
        """Name the action."""
        return "action_reply"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Say the answer for the intent."""
        key = _REPLIES.get(turn.intent or "", "utter_chitchat")
        settings = get_settings()
        say(
            dispatcher,
            turn.domain,
            key,
            turn.language,
            controller=settings.data_controller,
            privacy_url=settings.privacy_url,
        )
        if turn.intent == "goodbye" and turn.slot("requested_slot"):
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        return []


class ActionOffer(QuittAction):
    """Pay in full, settlement, deferral or instalments: ask the policy and propose."""

    needs_verification = True

    def name(self) -> str:
        """Name the action."""
        return "action_offer"

    def goal(self, turn: Turn) -> dict[str, Any] | None:
        """Remember the kind of arrangement and any amount/date/term named."""
        # An intent routed here without a kind of its own asks for instalments.
        return payment_goal(turn) or payment_goal(replace(turn, intent="ask_instalments"))

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Propose the arrangement for the chosen claims."""
        goal = self.goal(turn)
        claims = await selected_claims(turn)
        if not claims:
            return await present_claims(turn, dispatcher, goal=goal)
        if goal is None:
            return await _how_can_i_help(turn, dispatcher)
        return await resume_goal(turn, dispatcher, claims, goal)


class ActionCannotPay(QuittAction):
    """The debtor cannot pay right now: small instalments or a deferral, or a human."""

    needs_verification = True

    def name(self) -> str:
        """Name the action."""
        return "action_cannot_pay"

    def goal(self, turn: Turn) -> dict[str, Any] | None:
        """After verification, go straight to the plans that fit (or the amount named)."""
        if asks_for_plan(turn.text):
            return payment_goal(turn)
        return {"kind": CANNOT_PAY}

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Offer the gentlest options the policy allows, or the nearest plan to an amount."""
        claims = await selected_claims(turn)
        goal = self.goal(turn)
        if not claims:
            return await present_claims(turn, dispatcher, goal=goal)
        if goal and goal.get("kind") == "instalment_plan":
            # "mehr als 15 im Monat ist nicht drin": the nearest plan that fits, or a person.
            return await resume_goal(turn, dispatcher, claims, goal)
        if int(turn.slot("counter_offers") or 0) >= 1:
            # Even the smallest instalment is too much: the check once, then a person.
            return await affordability.floor_not_met(turn, dispatcher)
        return gentle_options(turn, dispatcher, claims)


class ActionAffirm(QuittAction):
    """A yes: to an offer (record the promise), to an agent, or to nothing pending."""

    def name(self) -> str:
        """Name the action."""
        return "action_affirm"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Act on what the yes refers to."""
        awaiting, pending = turn.slot("awaiting"), turn.slot("pending_offer")
        if awaiting == "confirm_offer" and pending and turn.verified:
            named = named_amounts(turn)
            if named and pending_amount(pending) not in named and not turn.date():
                # "ok, 25 is doable" to an offer of 49.30: a yes to another amount is a
                # new request, never a promise of what the debtor did not name.
                claims = await selected_claims(turn)
                if claims:
                    kind = "settlement" if pending["kind"] == "settlement" else "instalment_plan"
                    return await make_offer(turn, dispatcher, claims, kind, amount=max(named))
            return await accept_pending(turn, dispatcher)
        if awaiting == "offer_agent":
            return await hand_off(turn, dispatcher, turn.slot("agent_reason") or "human_request")
        if awaiting == affordability.OFFER_CHECK and turn.verified:
            return affordability.open_check(turn, dispatcher, origin=affordability.FLOOR)
        if not turn.verified:
            return await start_verification(turn, None, followup=True)
        if awaiting == GENTLE_OPTIONS:
            # "na gut, dann so wie Sie sagen" to small instalments or a deferral: the plan
            # at the policy's smallest instalment (the first of the two options named).
            claims = await selected_claims(turn)
            if claims:
                amount = monthly_amount(turn.text) or smallest_instalment(claims)
                return await make_offer(turn, dispatcher, claims, "instalment_plan", amount=amount)
        if awaiting == "choose_claim":
            say(dispatcher, turn.domain, "utter_choose_claim_again", turn.language)
            return []
        say(dispatcher, turn.domain, "utter_nothing_pending", turn.language)
        return await _how_can_i_help(turn, dispatcher)


class ActionDeny(QuittAction):
    """A no: to an offer (look for another way, or an agent), or to an agent."""

    reads_in_context = False

    def name(self) -> str:
        """Name the action."""
        return "action_deny"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Act on what the no refers to."""
        awaiting, pending = turn.slot("awaiting"), turn.slot("pending_offer")
        if awaiting == "confirm_offer" and pending:
            return await decline_pending(turn, dispatcher)
        if awaiting == affordability.OFFER_CHECK:
            return await affordability.declined(turn, dispatcher)
        events: list[EventType] = [SlotSet("awaiting", None)]
        if awaiting == OFFER_AGENT:
            # No person, no recorded reason: go on together.
            events += [SlotSet("agent_reason", None), SlotSet("reason_text", None)]
            if turn.slot("agent_reason") == "negative_sentiment":
                events.append(SlotSet("agent_offer_declined", True))
            say(dispatcher, turn.domain, "utter_continue_without_agent", turn.language)
            if pending and turn.verified:
                # The offer that was waiting for a yes before the person was offered.
                say(dispatcher, turn.domain, "utter_confirm_offer", turn.language)
                return [*events, SlotSet("awaiting", "confirm_offer")]
        if not turn.verified:
            return events + await start_verification(turn, None, followup=True)
        return events + await _how_can_i_help(turn, dispatcher)


async def _how_can_i_help(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    claims = await selected_claims(turn)
    if claims:
        return ask_payment_way(turn, dispatcher, claims, key="utter_how_can_i_help")
    say(dispatcher, turn.domain, "utter_how_can_i_help", turn.language)
    return []


class ActionHandleInform(QuittAction):
    """A bare answer: a reference, a menu choice, an amount or a date, read in context."""

    def name(self) -> str:
        """Name the action."""
        return "action_handle_inform"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Route the answer to what the conversation is waiting for."""
        if not turn.verified:
            return await start_verification(turn, None)
        awaiting = turn.slot("awaiting")
        choice = turn.entity("claim_choice")
        if choice or awaiting == "choose_claim":
            return await self._choose(turn, dispatcher, choice)
        claims = await selected_claims(turn)
        if not claims:
            return await present_claims(turn, dispatcher, goal=None)
        amount, on = turn.amount(), turn.date()
        pending = turn.slot("pending_offer") or {}
        kind = pending.get("kind")
        if amount is not None:
            kind = "settlement" if kind == "settlement" else "instalment_plan"
            return await make_offer(turn, dispatcher, claims, kind, amount=amount, on=on)
        if on is not None:
            return await make_offer(turn, dispatcher, claims, kind or "deferral", on=on)
        return await _how_can_i_help(turn, dispatcher)

    async def _choose(
        self, turn: Turn, dispatcher: CollectingDispatcher, choice: str | None
    ) -> list[EventType]:
        picked = await picked_claims(turn, choice)
        if not picked:
            say(dispatcher, turn.domain, "utter_choose_claim_again", turn.language)
            return []
        return await select(turn, dispatcher, picked, goal=payment_goal(turn) or turn.slot("goal"))


class ActionHandoff(QuittAction):
    """Dispute, insolvency, bereavement, vulnerability, crisis or a request for a person."""

    def name(self) -> str:
        """Name the action."""
        return "action_handoff"

    acknowledges_mood = False
    reads_in_context = False

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Hand off with the reason the message gives (checked first when not plain)."""
        triggers = detect_triggers(turn.text)
        if any(t.reason == "crisis" for t in triggers):
            return await hand_off(turn, dispatcher, "crisis")
        reason = INTENT_REASONS.get(turn.intent or "", "human_request")
        if reason == "crisis" and turn.abusive:
            # Insults read as a crisis (see is_crisis): acknowledged; the gateway offers
            # a person for the abuse right after this turn.
            say(dispatcher, turn.domain, "utter_ack_angry", turn.language)
            return []
        said = [t.reason for t in triggers]
        if said and reason not in said and said[0] in ("insolvency", "bereavement"):
            # "my partner passed suddenly, please stop the reminders" read as a dispute:
            # the plain words of a reason that stops collection outright win.
            reason = said[0]
        if turn.slot("awaiting") == OFFER_AGENT and turn.slot("agent_reason") == reason:
            # Said again after the bot's check: that is a yes.
            return await hand_off(turn, dispatcher, reason)
        return await confirm_or_hand_off(turn, dispatcher, reason)


class ActionOfferAgent(QuittAction):
    """Sustained or explicit anger or distress: offer a person; the debtor decides."""

    acknowledges_mood = False
    reads_in_context = False

    def name(self) -> str:
        """Name the action."""
        return "action_offer_agent"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Offer a person once; a pending or declined offer is not repeated."""
        if turn.slot("awaiting") == OFFER_AGENT or turn.slot("agent_offer_declined"):
            return []
        weighing = (
            (turn.slot("awaiting") == "confirm_offer" and turn.slot("pending_offer"))
            or turn.slot("awaiting") == affordability.OFFER_CHECK
            or turn.slot("requested_slot") in affordability.SLOTS
        )
        if weighing and not turn.abusive:
            # A debtor weighing an offer, or going through the income and outgoings
            # check, is negotiating, whatever their tone.
            return []
        say(dispatcher, turn.domain, "utter_offer_agent_mood", turn.language)
        return offer_events(turn, "negative_sentiment")


class ActionFallback(QuittAction):
    """Not understood: ask again; twice in a row, offer a person; a third time, hand over."""

    def name(self) -> str:
        """Name the action."""
        return "action_fallback"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Respond to a message the assistant did not understand."""
        if not turn.verified and extract_reference(turn.text):
            # "hello, i have letter about fitness studio, 260000133": the check can start.
            return await start_verification(turn, None, followup=True)
        triggers = [t for t in detect_triggers(turn.text) if t.reason != "crisis"]
        if triggers:
            # The classifier was unsure, but the words are clear enough to hand over.
            return await hand_off(turn, dispatcher, triggers[0].reason)
        streak = max(turn.fallback_streak, 1)
        if streak >= 3 or (streak >= 2 and turn.slot("awaiting") == "offer_agent"):
            return await hand_off(turn, dispatcher, "bot_failure")
        if streak >= 2:
            say(dispatcher, turn.domain, "utter_offer_agent_after_fallback", turn.language)
            return [SlotSet("awaiting", "offer_agent"), SlotSet("agent_reason", "bot_failure")]
        say(dispatcher, turn.domain, "utter_fallback", turn.language)
        return []
