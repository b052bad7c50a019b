"""A plan the debtor can keep: the income and outgoings check (issue 13).

Two ways in:

* The debtor cannot manage the smallest instalment: they refuse the nearest plan the
  policy allows, name less again, or say they cannot pay after the gentle options. The
  check is offered once (`floor_not_met`); a yes opens the form, a no hands off
  (`policy_limit`), as it did before the check existed (CONTRACT §4). The next time the
  floor is not met, a person takes over.
* The debtor asks ("was kann ich mir leisten?", intent `ask_affordability`): the form
  opens at once (after the identity check); declining it goes back to the ways to pay.

`affordability_form` asks net income, rent, energy, food and household, transport,
other debts and dependants. `policy/affordability.py` decides; the protected income
comes from the dated § 850c ZPO table and is cited with its date. A plan that fits is put
to the debtor by the usual offer (actions/offers.make_offer), so a yes records it like
any plan. Below the creditor's floor the conversation goes to a person with the
statement attached to the handoff (the agent sees it in the console).

Privacy: the figures are personal data. They live in the form's slots while asked (the
conversation) and then only in the handoff's statement; the slots are overwritten once
the check ends, nothing is logged, and the audit entry holds reason codes only.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import store
from actions.base import QuittAction, disclosure, language_events
from actions.claims import present_claims, selected_claims
from actions.context import Turn, policy_named, today
from actions.escalation import INTENT_REASONS, hand_off
from actions.formatting import day, money
from actions.household import parse_amount, parse_dependants, unsure
from actions.identity import identity_expired
from actions.offers import ask_payment_way, make_offer
from actions.texts import say, text
from domain.config import get_settings
from policy.affordability import MAX_AMOUNT, MAX_DEPENDANTS, Assessment, Household, assess
from policy.escalation import detect_triggers
from policy.pfaendung import PfaendungTable, load_table
from policy.reasons import POLICY_LIMIT

FORM = "affordability_form"
# The goal of a debtor who asked for the check before the identity check.
AFFORDABILITY = "affordability"
# What a yes or no refers to after the check was offered.
OFFER_CHECK = "affordability_offer"
ORIGIN = "afford_origin"
OFFERED = "afford_offered"
FLOOR = "floor"
ASKED = "asked"

# The form's slots and the household field each one fills, in the order asked.
SLOTS = {
    "afford_net_income": "net_income",
    "afford_rent": "rent",
    "afford_energy": "energy",
    "afford_food": "food",
    "afford_transport": "transport",
    "afford_other_debts": "other_debts",
    "afford_dependants": "dependants",
}
# Written into every slot of the form when the check ends early, so that no figure
# lingers: declined by the debtor, stopped by a handoff, or the identity expired.
DECLINED = "declined"
STOPPED = "stopped"
EXPIRED = "expired"
DONE = "done"
MARKERS = frozenset({DECLINED, STOPPED, EXPIRED, DONE})

# "lieber nicht", "I'd rather not": the debtor stops the check.
_DECLINE = re.compile(
    r"\b(lieber nicht|möchte ich nicht|moechte ich nicht|will ich nicht|mag ich nicht"
    r"|nicht angeben|keine angaben?|abbrechen|abbruch|aufhören|lassen wir das"
    r"|geht (sie|euch) nichts an|rather not|prefer not|(do not|don'?t) want|no thanks"
    r"|nein danke|cancel|stop it|skip (it|this)"
    r"|not comfortable|none of your business|not telling)\b"
)
# Reasons whose plain words hand off in the middle of the check, whatever the classifier read.
_HAND_OFF_IN_WORDS = frozenset({"insolvency", "bereavement", "human_request"})
# Intents the rules of bot/data/rules_affordability.yml answer in the middle of the check.
_ANSWERED_DURING_CHECK = frozenset(
    {"bot_challenge", "ask_privacy", "privacy_request", "ask_consequences", "ask_payment_info"}
)


@lru_cache(maxsize=1)
def pfaendung_table() -> PfaendungTable:
    """Return the § 850c ZPO table, loaded once from the configured file."""
    return load_table(get_settings().pfaendung_file)


def _markers(marker: str) -> list[EventType]:
    return [SlotSet(slot, marker) for slot in SLOTS]


def _cleared() -> list[EventType]:
    return [*_markers(DONE), SlotSet(ORIGIN, None)]


async def floor_not_met(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """The nearest plan that fits is still too much: a person (CONTRACT §4, policy_limit).

    The check was offered with that nearest plan (`offer_check_with_counter`); a debtor
    who still cannot pay goes to an agent, who has more room, as the contract says.
    """
    return await hand_off(turn, dispatcher, POLICY_LIMIT)


def offer_check_with_counter(turn: Turn, dispatcher: CollectingDispatcher) -> None:
    """Offer the check beside the nearest plan: the debtor said the minimum is too much."""
    if not turn.slot(OFFERED):
        say(dispatcher, turn.domain, "utter_affordability_hint", turn.language)


def open_check(turn: Turn, dispatcher: CollectingDispatcher, *, origin: str) -> list[EventType]:
    """Explain the check in two sentences and open the form."""
    say(dispatcher, turn.domain, "utter_affordability_intro", turn.language)
    return [
        SlotSet("awaiting", None),
        SlotSet("pending_offer", None),
        SlotSet(OFFERED, True),
        SlotSet(ORIGIN, origin),
        *[SlotSet(slot, None) for slot in SLOTS],
        FollowupAction(FORM),
    ]


async def declined(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """No check: a person when the floor was too much (as before), else the ways to pay."""
    origin = turn.slot(ORIGIN)
    say(dispatcher, turn.domain, "utter_affordability_declined", turn.language)
    await store.audit(
        "affordability_declined", sender_id=turn.sender_id, reasons=("affordability_declined",)
    )
    events: list[EventType] = [SlotSet("awaiting", None), SlotSet(ORIGIN, None)]
    if origin == FLOOR:
        return events + await hand_off(turn, dispatcher, POLICY_LIMIT)
    claims = await selected_claims(turn)
    if claims:
        return events + ask_payment_way(turn, dispatcher, claims, key="utter_how_can_i_help")
    return events


class ActionAffordability(QuittAction):
    """The debtor asks what they can afford: the income and outgoings check."""

    needs_verification = True

    def name(self) -> str:
        """Name the action."""
        return "action_affordability"

    def goal(self, turn: Turn) -> dict[str, Any] | None:
        """After the identity check, open the check."""
        return {"kind": AFFORDABILITY}

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Open the check for the chosen claims (or choose them first)."""
        if not await selected_claims(turn):
            return await present_claims(turn, dispatcher, goal=self.goal(turn))
        pending = turn.slot("pending_offer") or {}
        # Asked for beside the nearest plan: declining it leaves a person, as the floor does.
        origin = FLOOR if pending.get("hard_counter") else ASKED
        return open_check(turn, dispatcher, origin=origin)


def _declines(turn: Turn, slot: str) -> bool:
    """Tell whether the answer stops the check ("lieber nicht", or a bare no to the income)."""
    folded = " ".join(turn.text.casefold().split())
    if _DECLINE.search(folded):
        return True
    if turn.intent != "deny" or unsure(turn.text):
        # "weiß ich nicht genau" is no refusal: the question is asked again.
        return False
    if slot == "afford_dependants":
        return parse_dependants(turn.text) is None
    return parse_amount(turn.text, no_means_zero=slot != "afford_net_income") is None


class ValidateAffordabilityForm(FormValidationAction):
    """Reads each answer as an amount (or a head count); a clear no ends the check."""

    def name(self) -> str:
        """Name the action."""
        return "validate_affordability_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Act on a crisis, a handoff reason or a no first; then validate the answer."""
        requested = tracker.get_slot("requested_slot")
        if requested not in SLOTS:
            # The form is just opening: nothing was asked yet.
            return await super().run(dispatcher, tracker, domain)
        turn = Turn.from_tracker(tracker, domain)
        said = [t.reason for t in detect_triggers(turn.text)]
        reason_intent = turn.intent in INTENT_REASONS and not str(turn.intent).startswith(
            "EXTERNAL_"
        )
        plain = [r for r in said if r in _HAND_OFF_IN_WORDS]
        if "crisis" in said or (plain and not reason_intent):
            # Help first (a crisis), or the plain words of a reason the classifier took for
            # an answer; every figure given so far is overwritten.
            await hand_off(turn, dispatcher, "crisis" if "crisis" in said else plain[0])
            return [*_markers(STOPPED), SlotSet("handed_off", True)]
        if turn.intent in _ANSWERED_DURING_CHECK or reason_intent:
            # No events: Rasa rejects the form and the intent's rule answers (see
            # actions/verification.py, which does the same for the identity check).
            return []
        if _declines(turn, str(requested)):
            return _markers(DECLINED)
        if identity_expired(turn):
            # The next action checks identity again (QuittAction); the figures go.
            return _markers(EXPIRED)
        events = disclosure(turn, dispatcher) + language_events(turn)
        return events + await super().run(dispatcher, tracker, domain)

    def _amount(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        if value in MARKERS or value is None:
            return {slot: value}
        amount = parse_amount(str(value), no_means_zero=slot != "afford_net_income")
        if amount is None or amount > MAX_AMOUNT:
            language = Turn.from_tracker(tracker, domain).language
            say(dispatcher, domain, "utter_affordability_invalid_amount", language)
            return {slot: None}
        return {slot: str(amount)}

    async def validate_afford_net_income(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read the net income."""
        return self._amount("afford_net_income", value, dispatcher, tracker, domain)

    async def validate_afford_rent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read the rent."""
        return self._amount("afford_rent", value, dispatcher, tracker, domain)

    async def validate_afford_energy(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read electricity and heating."""
        return self._amount("afford_energy", value, dispatcher, tracker, domain)

    async def validate_afford_food(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read food and household."""
        return self._amount("afford_food", value, dispatcher, tracker, domain)

    async def validate_afford_transport(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read transport."""
        return self._amount("afford_transport", value, dispatcher, tracker, domain)

    async def validate_afford_other_debts(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read other debts."""
        return self._amount("afford_other_debts", value, dispatcher, tracker, domain)

    async def validate_afford_dependants(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Any
    ) -> dict[str, Any]:
        """Read the number of people the debtor supports."""
        slot = "afford_dependants"
        if value in MARKERS or value is None:
            return {slot: value}
        count = parse_dependants(str(value))
        if count is None or count > MAX_DEPENDANTS:
            language = Turn.from_tracker(tracker, domain).language
            say(dispatcher, domain, "utter_affordability_invalid_count", language)
            return {slot: None}
        return {slot: str(count)}


def _household(turn: Turn) -> Household | None:
    """Return the household the form's slots describe, or None if the check ended early."""
    values = {field: turn.slot(slot) for slot, field in SLOTS.items()}
    if any(v is None or v in MARKERS for v in values.values()):
        return None
    dependants = int(values.pop("dependants"))
    return Household(dependants=dependants, **{k: Decimal(v) for k, v in values.items()})


def _dependants_text(turn: Turn, count: int) -> str:
    key = {0: "none", 1: "one"}.get(count, "many")
    return text(turn.domain, f"utter_affordability_dependants_{key}", turn.language, count=count)


def _table_date(turn: Turn, assessment: Assessment) -> str:
    """Return the table's date as cited: "1.7.2025" in German, "1 July 2025" in English."""
    valid_from = assessment.protected.valid_from
    if turn.language == "en":
        return day(valid_from, "en")
    return f"{valid_from.day}.{valid_from.month}.{valid_from.year}"


def summarise(turn: Turn, dispatcher: CollectingDispatcher, assessment: Assessment) -> None:
    """Tell the debtor the figures, what is left and the protected income with its date."""
    home, lang = assessment.household, turn.language

    def eur(amount: Decimal) -> str:
        return money(amount, lang)

    say(
        dispatcher,
        turn.domain,
        "utter_affordability_summary",
        lang,
        income=eur(home.net_income),
        outgoings=eur(home.total_outgoings),
        rent=eur(home.rent),
        energy=eur(home.energy),
        food=eur(home.food),
        transport=eur(home.transport),
        other_debts=eur(home.other_debts),
        left=eur(max(home.left, Decimal("0.00"))),
        table_date=_table_date(turn, assessment),
        dependants=_dependants_text(turn, home.dependants),
        protected=eur(assessment.protected.amount),
        affordable=eur(assessment.affordable),
    )


class ActionAffordabilityDone(QuittAction):
    """After the form: propose a plan within what fits, or hand off with the statement."""

    needs_verification = True

    def name(self) -> str:
        """Name the action."""
        return "action_affordability_done"

    def goal(self, turn: Turn) -> dict[str, Any] | None:
        """When identity expired during the check, open it again after the new check."""
        return {"kind": AFFORDABILITY}

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Assess the household and act on the result."""
        if turn.slot("afford_net_income") == DECLINED:
            return _cleared() + await declined(turn, dispatcher)
        home = _household(turn)
        claims = await selected_claims(turn)
        if not claims:
            return _cleared() + await present_claims(turn, dispatcher, goal=None)
        if home is None:
            return _cleared()
        on = today()
        protected = pfaendung_table().lookup(on=on, dependants=home.dependants)
        total = sum((c.balance for c in claims), Decimal("0"))
        assessment = assess(
            household=home, protected=protected, total=total, policy=policy_named(claims[0].policy)
        )
        references = [c.reference for c in claims]
        # Reason codes and which table: never the figures (they are personal data).
        await store.audit(
            "affordability_checked",
            sender_id=turn.sender_id,
            claim_reference=references[0],
            reasons=assessment.reasons,
            data={
                "policy_version": assessment.policy_version,
                "pfaendung_table": protected.announcement.name,
                "pfaendung_valid_from": protected.valid_from.isoformat(),
            },
        )
        summarise(turn, dispatcher, assessment)
        if assessment.monthly is not None:
            say(dispatcher, turn.domain, "utter_affordability_fits", turn.language)
            # The check's answers are no request of their own: the offer reads no words.
            offer = await make_offer(
                replace(turn, text=""),
                dispatcher,
                claims,
                "instalment_plan",
                amount=assessment.monthly,
            )
            return _cleared() + offer
        say(
            dispatcher,
            turn.domain,
            "utter_affordability_below_minimum",
            turn.language,
            floor=money(assessment.floor, turn.language, claims[0].currency),
        )
        statement = {
            **assessment.to_statement(currency=claims[0].currency),
            "claims": references,
            "checked_on": on.isoformat(),
        }
        handed = await hand_off(turn, dispatcher, POLICY_LIMIT, statement=statement)
        return _cleared() + handed
