"""The frame every Quitt action runs in: disclosure, safety net, language, verification."""

from __future__ import annotations

import re
from abc import abstractmethod
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation_state, store
from actions.context import Turn, extract_reference
from actions.escalation import hand_off, offer_crisis_help, safety_net
from actions.identity import expire_identity
from actions.offers import accept_pending, ask_payment_way, payment_goal
from actions.texts import say, text
from domain.config import get_settings
from policy.escalation import detect_triggers


def disclosure(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Say that this is an automated assistant, once per session, before anything else."""
    if turn.slot("disclosed"):
        return []
    settings = get_settings()
    say(
        dispatcher,
        turn.domain,
        "utter_disclosure",
        turn.language,
        controller=settings.data_controller,
        privacy_url=settings.privacy_url,
    )
    return [SlotSet("disclosed", True)]


_NEGATION = re.compile(
    r"\b(nein|nee|nö|noe|nicht|kein\w*|zu viel|zuviel|no|not|nope|cannot|cant|can't|"
    r"too much|won't|wont|never|nie)\b"
)


_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})*(?:,\d{1,2})?(?![\d.,]\d)")


def offer_awaiting_yes(turn: Turn) -> dict[str, Any] | None:
    """Return the verified debtor's offer that awaits a yes, if there is one."""
    pending = turn.slot("pending_offer")
    if turn.verified and turn.slot("awaiting") == "confirm_offer" and pending:
        return dict(pending)
    return None


def names_pending_amount(turn: Turn) -> bool:
    """Tell whether the debtor accepts the offer awaiting a yes by naming its amount."""
    pending = offer_awaiting_yes(turn)
    if pending is None:
        return False
    if turn.intent in ("deny", "dispute", "human_request", "crisis") or _NEGATION.search(
        turn.text.casefold()
    ):
        return False
    agreed = pending_amount(pending)
    return agreed is not None and agreed in named_amounts(turn)


# A clear yes at the start of the answer to an offer ("go for it, cheers", "Yes, both,
# please", "Yes, next Friday, the whole lot"): whatever else the classifier made of the
# rest, it is the debtor's yes unless the same message names other terms or hedges.
_YES_LEAD = re.compile(
    r"^\W*(?:ja+|jo+|joa|jap|jep|jup|jawohl|klar|gerne?|ok(?:ay|ey|i)?|passt|einverstanden|"
    r"genau|alles klar|na gut|gut|machen wir|mach(?:en wir)? das so|abgemacht|super|prima|"
    r"perfekt|top|yes+|yeah|yea|yep|yup|aye|sure|fine|deal|agreed|go for it|go on|go ahead|"
    r"sounds good|perfect|great|brilliant|lovely|cool|that'?s fine|that works|do it|"
    r"book it|record it|correct)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(aber|jedoch|allerdings|sondern|erst|but|however|unless|only if|nur wenn|"
    r"instead|stattdessen|lieber|rather|später|later)\b|\?",
    re.IGNORECASE,
)


def affirms_pending(turn: Turn) -> bool:
    """Tell whether a message opening with a yes accepts the offer awaiting one.

    Any amount or date it names must be the offer's own; a no, a hedge ("ja, aber erst
    im Januar") or a question leaves the message to its intent.
    """
    pending = offer_awaiting_yes(turn)
    if pending is None:
        return False
    folded = turn.text.casefold()
    if _YES_LEAD.search(folded) is None or _HEDGE.search(folded) or _NEGATION.search(folded):
        return False
    if turn.intent in ("deny", "dispute", "human_request", "crisis", "insolvency", "bereavement"):
        return False
    agreed = pending_amount(pending)
    count = Decimal(len(pending.get("instalments") or [])) or None
    if named_amounts(turn) - {agreed, count}:
        return False
    named_day = turn.date()
    due = pending.get("due_date")
    return named_day is None or (due is not None and named_day.isoformat() == str(due))


def refuses_pending_amount(turn: Turn) -> bool:
    """Tell whether the debtor refuses the offer awaiting a yes by naming its amount.

    "Nein, 200 im Monat schaffe ich nicht": the offer's own amount with a no is a no,
    never a new request for the same plan.
    """
    pending = offer_awaiting_yes(turn)
    if pending is None:
        return False
    agreed = pending_amount(pending)
    return (
        agreed is not None
        and agreed in named_amounts(turn)
        and _NEGATION.search(turn.text.casefold()) is not None
    )


async def decline_pending(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """The debtor said no to the pending offer: another way, or a person past the policy."""
    from actions.claims import selected_claims  # (claims builds on this module)

    pending = turn.slot("pending_offer")
    await store.audit(
        "offer_declined",
        sender_id=turn.sender_id,
        claim_reference=pending["references"][0],
        reasons=("plan_refused",),
        data={"offer": pending},
    )
    if pending.get("hard_counter"):
        # The nearest plan that fits is still too much: never press. The income and
        # outgoings check once (a plan the debtor can keep), then a person.
        from actions.affordability import floor_not_met  # (builds on this module)

        return await floor_not_met(turn, dispatcher)
    claims = await selected_claims(turn)
    if claims:
        return ask_payment_way(turn, dispatcher, claims, key="utter_offer_declined")
    return [SlotSet("awaiting", None), SlotSet("pending_offer", None)]


def pending_amount(pending: dict[str, Any]) -> Decimal | None:
    """Return the amount a debtor would name for an offer: its instalment, else its amount."""
    instalments = pending.get("instalments") or []
    agreed = instalments[0]["amount"] if instalments else pending.get("amount")
    return None if agreed is None else Decimal(str(agreed))


def named_amounts(turn: Turn) -> set[Decimal]:
    """Return the amounts a message names: the NLU's, and any bare number in it.

    The NLU takes a bare number for an amount only in a sentence about paying; next to a
    pending offer any number counts ("dann halt 200", "ok 25 is doable").
    """
    found = {Decimal(n.replace(".", "").replace(",", ".")) for n in _NUMBER.findall(turn.text)}
    named = turn.amount()
    return found | ({named} if named is not None else set())


def language_events(turn: Turn) -> list[EventType]:
    """Keep the `language` slot (set only by actions) and the conversation's record current."""
    if not turn.language_detected:
        return []
    return [SlotSet("language", turn.language)]


def acknowledge(turn: Turn, dispatcher: CollectingDispatcher) -> None:
    """Open the answer with a short acknowledgement of a strong mood, once per message.

    Mood changes the tone, not who answers: the next step follows in the same turn.
    """
    if turn.mood is None or turn.slot("handed_off") or turn.intent == "cannot_pay":
        # (The answer to "money is tight" has understanding words of its own.)
        return
    key = f"utter_ack_{turn.mood}"
    if text(turn.domain, key, turn.language) in turn.said:
        return
    say(dispatcher, turn.domain, key, turn.language)


async def start_verification(
    turn: Turn, goal: dict[str, Any] | None, *, followup: bool = False
) -> list[EventType]:
    """Remember what the debtor wants and prepare the identity check.

    For the intents of bot/data/rules.yml that need identity, a rule runs
    verify_form next; elsewhere (`followup=True`) the action asks for the form.
    """
    events: list[EventType] = [SlotSet("goal", goal)]
    reference = extract_reference(turn.text)
    if reference:
        events.append(SlotSet("claim_reference", reference))
    if followup:
        events.append(FollowupAction("verify_form"))
    return events


def is_crisis(turn: Turn) -> bool:
    """Tell whether the message is a crisis cue (by intent or by the keyword net).

    A crisis is never lost to the classifier's doubt: when it was too unsure to name an
    intent and its best guess was a crisis, the help line is given all the same.
    """
    if any(t.reason == "crisis" for t in detect_triggers(turn.text)):
        return True
    read = turn.intent == "crisis" or (
        turn.intent == "nlu_fallback" and turn.best_guess == "crisis"
    )
    # Insults the classifier read as a crisis ("I'm sick to death of your letters, you
    # idiots"; "text me again and see what happens") are abuse, not a crisis cue: the
    # gateway offers a person for them. A crisis in so many words always counts.
    return read and not turn.abusive


# A crisis the classifier reads this surely (or the keyword net finds) is handed off at
# once. Below it, the help line comes at once all the same, and a person is offered: on
# the blind dev sets of rounds A-E the ordinary messages read as a crisis ("gleich alle,
# dann hab ich ruhe", "ick könnt heulen wenn ick die summe seh") all stood at 0.87 or
# less, while the crisis messages without words for the net stood at 0.90 or more.
CRISIS_PLAIN = 0.9


def crisis_is_plain(turn: Turn) -> bool:
    """Tell whether a crisis reading is sure enough to hand off without asking."""
    if any(t.reason == "crisis" for t in detect_triggers(turn.text)):
        return True
    return turn.intent == "crisis" and turn.intent_confidence >= CRISIS_PLAIN


class QuittAction(Action):
    """Base class: subclasses implement `handle` for a verified or unverified turn."""

    #: Whether the action may only run once identity is verified.
    needs_verification = False
    #: Whether the shared pre-steps read the message in its context first: the keyword
    #: net, a reference that picks a claim, the pending offer's own amount as a yes.
    #: Handoffs, the offer of a person and a "no" act on their own words.
    reads_in_context = True
    #: Whether the action opens with an acknowledgement of a strong mood (handoffs
    #: and the offer of a person have words of their own).
    acknowledges_mood = True

    @abstractmethod
    def name(self) -> str:
        """Name the action (abstract, so rasa-sdk does not register the base class)."""

    def goal(self, turn: Turn) -> dict[str, Any] | None:
        """Return what to resume after verification (None: just explain the claim)."""
        return None

    @abstractmethod
    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Do the action's work."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Run the shared steps, then the action's own."""
        turn = Turn.from_tracker(tracker, domain)
        if turn.slot("handed_off"):
            # A human holds the conversation; the gateway normally never forwards.
            return []
        if is_crisis(turn):
            # Crisis help comes before anything else, the disclosure included; then
            # listen, even where a rule would open the identity check. An unsure reading
            # gets the help line too, with a person offered instead of sent.
            if crisis_is_plain(turn):
                events = await hand_off(turn, dispatcher, "crisis")
            else:
                events = await offer_crisis_help(turn, dispatcher)
            return [*events, *disclosure(turn, dispatcher), FollowupAction("action_listen")]
        events = disclosure(turn, dispatcher)
        was_verified = turn.verified
        turn, expired = expire_identity(turn, dispatcher)
        events += expired
        if was_verified and not turn.verified:
            await conversation_state.forget_verification(turn.sender_id)
        if self.acknowledges_mood:
            acknowledge(turn, dispatcher)
        if turn.language_detected:
            await conversation_state.set_language(turn.sender_id, turn.channel, turn.language)
        events += language_events(turn)
        if self.reads_in_context:
            caught = await safety_net(turn, dispatcher)
            if caught is not None:
                # A handoff, or a one-line check waiting for a yes: listen now, even where
                # a rule would go on to the identity check (two questions at once, and the
                # "yes" would be taken for a claim reference).
                return [*events, *caught, FollowupAction("action_listen")]
        if self.needs_verification and not turn.verified:
            # Rules open the identity check for a conversation that was never verified;
            # one whose identity just expired asks for the check itself.
            return events + await start_verification(turn, self.goal(turn), followup=was_verified)
        if self.reads_in_context and turn.slot("awaiting") == "choose_claim" and turn.verified:
            # A reference or list number picks the claim, whatever else the message says.
            from actions.claims import CANNOT_PAY, picked_claims, select  # (builds on this)

            picked = await picked_claims(turn)
            if picked:
                # What the same message asks for wins over what was asked before.
                goal = payment_goal(turn) or (
                    {"kind": CANNOT_PAY} if turn.intent == "cannot_pay" else turn.slot("goal")
                )
                return events + await select(turn, dispatcher, picked, goal=goal)
        if self.reads_in_context and refuses_pending_amount(turn):
            return events + await decline_pending(turn, dispatcher)
        if self.reads_in_context and (names_pending_amount(turn) or affirms_pending(turn)):
            # "hm naja gut, dann halt 200": the offer's own amount, said back, is a yes.
            return events + await accept_pending(turn, dispatcher)
        return events + await self.handle(turn, dispatcher)
