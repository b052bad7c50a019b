"""Proposing a way to pay under the creditor's policy, and recording the debtor's yes."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import paydetails, store
from actions.context import Turn, policy_named, today
from actions.formatting import day, money, percent
from actions.store import ClaimView
from actions.terms import asks_for_plan, monthly_amount, plan_months
from actions.texts import say, text
from domain.config import get_settings
from policy import reasons as r
from policy.config import CreditorPolicy
from policy.decisions import Decision, Instalment, Offer
from policy.money import cents
from policy.payments import propose_deferral, propose_full, propose_settlement
from policy.plans import longest_plan_months, minimum_instalment, propose_plan

INTENT_KINDS = {
    "pay_full": "full",
    "ask_settlement": "settlement",
    "ask_deferral": "deferral",
    "ask_instalments": "instalment_plan",
}

# Intents after which the words may still ask for instalments ("bin knapp, könnte ich 40
# im Monat zahlen?" read as a deferral): a monthly amount or a number of instalments wins.
_PLAN_BY_WORDS = frozenset({*INTENT_KINDS, "cannot_pay", "inform", "affirm"})


def payment_goal(turn: Turn) -> dict[str, Any] | None:
    """Return the way to pay a message asks for (kind, amount, date, months), or None."""
    kind = INTENT_KINDS.get(turn.intent or "")
    if turn.intent in _PLAN_BY_WORDS and asks_for_plan(turn.text):
        kind = "instalment_plan"
    if kind is None:
        return None
    amount = turn.amount()
    if kind == "instalment_plan":
        amount = monthly_amount(turn.text) or amount
    on = turn.date()
    goal: dict[str, Any] = {
        "kind": kind,
        "amount": str(amount) if amount else None,
        "date": on.isoformat() if on else None,
    }
    months = plan_months(turn.text)
    if months is not None:
        goal["months"] = months
    return goal


# Counter offers after which "no" means the debtor cannot meet the policy: an agent decides.
_HARD_COUNTERS = {
    r.INSTALMENT_BELOW_MINIMUM,
    r.MONTHLY_NOT_FEASIBLE,
    r.SETTLEMENT_DISCOUNT_BEYOND_POLICY,
}


def _policy(claims: list[ClaimView]) -> CreditorPolicy:
    # Claims of one debtor settled together follow the first claim's creditor policy.
    return policy_named(claims[0].policy)


def _total(claims: list[ClaimView]) -> Decimal:
    # What is still owed: after a payment (or a broken plan), offers cover the balance.
    return sum((c.balance for c in claims), Decimal("0"))


def smallest_instalment(claims: list[ClaimView]) -> Decimal:
    """Return the smallest monthly instalment the policy allows for these claims."""
    return minimum_instalment(total=_total(claims), policy=_policy(claims))


# -- pending offers live in a slot as plain JSON --------------------------------------------


def offer_to_slot(
    offer: Offer, *, references: list[str], version: str, hard: bool
) -> dict[str, Any]:
    """Serialise an offer awaiting the debtor's yes."""
    return {
        **offer.to_audit(),
        "references": references,
        "policy_version": version,
        "hard_counter": hard,
    }


def offer_from_slot(data: dict[str, Any]) -> Offer:
    """Rebuild an offer from its slot form."""
    return Offer(
        kind=data["kind"],
        total=Decimal(data["total"]),
        amount=Decimal(data["amount"]),
        discount=Decimal(data["discount"]),
        due_date=date.fromisoformat(data["due_date"]),
        instalments=tuple(
            Instalment(
                number=i["number"],
                amount=Decimal(i["amount"]),
                due_date=date.fromisoformat(i["due_date"]),
            )
            for i in data.get("instalments", [])
        ),
    )


def describe(turn: Turn, offer: Offer, currency: str = "EUR") -> str:
    """Return the offer as one text in the debtor's language."""
    lang, domain = turn.language, turn.domain
    if offer.kind == "full":
        return text(
            domain,
            "utter_offer_full",
            lang,
            amount=money(offer.amount, lang, currency),
            due_date=day(offer.due_date, lang),
        )
    if offer.kind == "settlement":
        return text(
            domain,
            "utter_offer_settlement",
            lang,
            due_date=day(offer.due_date, lang),
            discount=money(offer.discount, lang, currency),
            amount=money(offer.amount, lang, currency),
            total=money(offer.total, lang, currency),
        )
    if offer.kind == "deferral":
        return text(
            domain,
            "utter_offer_deferral",
            lang,
            amount=money(offer.amount, lang, currency),
            due_date=day(offer.due_date, lang),
        )
    first, last = offer.instalments[0], offer.instalments[-1]
    # "9 Raten à 50,00 € und eine Schlussrate von 27,20 €": the last instalment is named
    # apart when it differs (a Schlussrate, or the cents an equal split leaves over).
    all_equal = last.amount == first.amount
    schedule = text(
        domain,
        "utter_schedule_all_equal" if all_equal else "utter_schedule_equal",
        lang,
        n=len(offer.instalments) if all_equal else len(offer.instalments) - 1,
        amount=money(first.amount, lang, currency),
        first=day(first.due_date, lang),
        last_amount=money(last.amount, lang, currency),
        last=day(last.due_date, lang),
    )
    return text(
        domain,
        "utter_offer_plan",
        lang,
        amount=money(offer.amount, lang, currency),
        count=len(offer.instalments),
        due_date=day(offer.due_date, lang),
        schedule=schedule,
    )


def payment_buttons(turn: Turn, claims: list[ClaimView]) -> list[dict[str, str]]:
    """Return the ways to pay that the policy allows for these claims."""
    policy, total = _policy(claims), _total(claims)
    label = lambda key: text(turn.domain, key, turn.language)  # noqa: E731
    buttons = [{"title": label("utter_button_full"), "payload": "/pay_full"}]
    if longest_plan_months(total=total, policy=policy) >= 2:
        buttons.append({"title": label("utter_button_plan"), "payload": "/ask_instalments"})
    if max(c.deferrals_used for c in claims) < policy.max_deferrals:
        buttons.append({"title": label("utter_button_deferral"), "payload": "/ask_deferral"})
    if total >= policy.settlement_min_total:
        buttons.append({"title": label("utter_button_settlement"), "payload": "/ask_settlement"})
    buttons.append({"title": label("utter_button_agent"), "payload": "/human_request"})
    return buttons


def ask_payment_way(
    turn: Turn,
    dispatcher: CollectingDispatcher,
    claims: list[ClaimView],
    key: str = "utter_ask_payment_way",
) -> list[EventType]:
    """Ask how the debtor wants to pay, with the allowed options as buttons."""
    say(dispatcher, turn.domain, key, turn.language, buttons=payment_buttons(turn, claims))
    return [SlotSet("awaiting", None), SlotSet("pending_offer", None)]


def _decide(
    kind: str,
    claims: list[ClaimView],
    amount: Decimal | None,
    on: date | None,
    months: int | None = None,
) -> Decision:
    policy, total, now = _policy(claims), _total(claims), today()
    if kind == "full":
        return propose_full(total=total, today=now, policy=policy, pay_on=on)
    if kind == "settlement":
        return propose_settlement(total=total, today=now, policy=policy, amount=amount, pay_on=on)
    if kind == "deferral":
        used = max(c.deferrals_used for c in claims)
        return propose_deferral(
            total=total, today=now, policy=policy, until=on, deferrals_used=used
        )
    if months is not None and amount is None:
        return propose_plan(total=total, today=now, policy=policy, months=months, first_due=on)
    return propose_plan(total=total, today=now, policy=policy, monthly=amount, first_due=on)


def _counter_intro(
    turn: Turn,
    decision: Decision,
    claims: list[ClaimView],
    amount: Decimal | None,
    months: int | None = None,
) -> str | None:
    lang, domain, currency = turn.language, turn.domain, claims[0].currency
    policy, total = _policy(claims), _total(claims)
    why = set(decision.reasons)
    if why & {r.INSTALMENT_BELOW_MINIMUM, r.MONTHLY_NOT_FEASIBLE}:
        # A plan asked for by its length ("12 months") is below the floor by its rate.
        requested = amount or (cents(total / months) if months else None)
        if requested is None:
            return None
        return text(
            domain,
            "utter_counter_plan",
            lang,
            requested=money(requested, lang, currency),
            floor=money(minimum_instalment(total=total, policy=policy), lang, currency),
        )
    if r.SETTLEMENT_DISCOUNT_BEYOND_POLICY in why:
        return text(
            domain,
            "utter_counter_settlement",
            lang,
            max_discount=percent(policy.settlement_max_discount, lang),
        )
    if why & {r.DEFERRAL_BEYOND_WINDOW, r.DEFERRAL_DATE_NOT_IN_FUTURE} and decision.offer:
        return text(
            domain, "utter_counter_deferral", lang, max_date=day(decision.offer.due_date, lang)
        )
    if (
        why
        & {
            r.FULL_PAYMENT_DATE_BEYOND_WINDOW,
            r.SETTLEMENT_DATE_BEYOND_WINDOW,
            r.FIRST_INSTALMENT_BEYOND_WINDOW,
        }
        and decision.offer
    ):
        return text(
            domain, "utter_counter_full_date", lang, deadline=day(decision.offer.due_date, lang)
        )
    return None


async def make_offer(
    turn: Turn,
    dispatcher: CollectingDispatcher,
    claims: list[ClaimView],
    kind: str,
    *,
    amount: Decimal | None = None,
    on: date | None = None,
    months: int | None = None,
) -> list[EventType]:
    """Ask the policy, audit its decision, and put the (counter) offer to the debtor."""
    if kind == "instalment_plan" and months is None:
        months = plan_months(turn.text)
    if months is not None and amount == Decimal(months):
        amount = None  # "über 6 Monate": the 6 is the term, not an amount
    if kind == "settlement" and amount is not None and amount >= _total(claims):
        # "it's nearly 300 quid" on 295.84 names the claim, not a discount: a "settlement"
        # of the whole total would offer a discount of 0.00. Offer the best one instead.
        amount = None
    decision = _decide(kind, claims, amount, on, months)
    references = [c.reference for c in claims]
    await store.audit(
        "offer_made" if decision.offer else "offer_refused",
        sender_id=turn.sender_id,
        claim_reference=references[0],
        decision=decision,
        data={
            "requested": {
                "kind": kind,
                "amount": str(amount) if amount else None,
                "date": on.isoformat() if on else None,
            }
        },
    )
    hard = bool(set(decision.reasons) & _HARD_COUNTERS) and not decision.allowed
    counters = int(turn.slot("counter_offers") or 0)
    if hard and counters >= 1:
        # The debtor still cannot meet what the policy allows: the income and outgoings
        # check once, then an agent, who has more room.
        from actions.affordability import floor_not_met  # (builds on this module)

        return await floor_not_met(turn, dispatcher)
    if decision.offer is None or set(decision.reasons) & {r.PLAN_TOTAL_TOO_SMALL}:
        return _no_offer(turn, dispatcher, claims, decision)
    parts = [p for p in (_counter_intro(turn, decision, claims, amount, months),) if p]
    parts.append(describe(turn, decision.offer, claims[0].currency))
    if decision.offer.kind == "instalment_plan" and amount is None:
        parts.append(text(turn.domain, "utter_plan_hint", turn.language))
    dispatcher.utter_message(text="\n".join(parts))
    say(dispatcher, turn.domain, "utter_confirm_offer", turn.language)
    if hard:
        from actions.affordability import offer_check_with_counter  # (builds on this module)

        offer_check_with_counter(turn, dispatcher)
    pending = offer_to_slot(
        decision.offer, references=references, version=decision.policy_version, hard=hard
    )
    return [
        SlotSet("pending_offer", pending),
        SlotSet("awaiting", "confirm_offer"),
        SlotSet("counter_offers", float(counters + 1 if hard else counters)),
    ]


def _no_offer(
    turn: Turn, dispatcher: CollectingDispatcher, claims: list[ClaimView], decision: Decision
) -> list[EventType]:
    lang, currency = turn.language, claims[0].currency
    policy, total = _policy(claims), _total(claims)
    why = set(decision.reasons)
    if r.SETTLEMENT_TOTAL_BELOW_MINIMUM in why:
        say(
            dispatcher,
            turn.domain,
            "utter_settlement_not_available",
            lang,
            min_total=money(policy.settlement_min_total, lang, currency),
        )
    elif r.DEFERRAL_ALREADY_USED in why:
        say(dispatcher, turn.domain, "utter_deferral_used", lang)
    elif r.PLAN_TOTAL_TOO_SMALL in why:
        longest = today() + timedelta(days=policy.deferral_max_days)
        say(
            dispatcher,
            turn.domain,
            "utter_plan_not_possible",
            lang,
            floor=money(minimum_instalment(total=total, policy=policy), lang, currency),
            max_date=day(longest, lang),
        )
    return ask_payment_way(turn, dispatcher, claims, key="utter_offer_declined")


async def resume_goal(
    turn: Turn, dispatcher: CollectingDispatcher, claims: list[ClaimView], goal: dict[str, Any]
) -> list[EventType]:
    """Make the offer the debtor asked for before verification."""
    if goal.get("kind") == "affordability":
        from actions.affordability import ASKED, open_check  # (builds on this module)

        return open_check(turn, dispatcher, origin=ASKED)
    amount = Decimal(goal["amount"]) if goal.get("amount") else None
    on = date.fromisoformat(goal["date"]) if goal.get("date") else None
    months = int(goal["months"]) if goal.get("months") else None
    return await make_offer(
        turn, dispatcher, claims, goal["kind"], amount=amount, on=on, months=months
    )


def idempotency_key(sender_id: str, pending: dict[str, Any]) -> str:
    """Return a key that is the same for a repeated yes to the same offer."""
    body = json.dumps(pending, sort_keys=True, default=str)
    return hashlib.sha256(f"{sender_id}|{body}".encode()).hexdigest()


async def accept_pending(turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Record the offer the debtor just said yes to."""
    pending = turn.slot("pending_offer")
    offer = offer_from_slot(pending)
    references = list(pending["references"])
    promise_id = await store.record_promise(
        sender_id=turn.sender_id,
        channel=turn.channel,
        references=references,
        offer=offer,
        policy_version=pending["policy_version"],
        idempotency_key=idempotency_key(turn.sender_id, pending),
    )
    say(
        dispatcher,
        turn.domain,
        "utter_promise_recorded",
        turn.language,
        summary=describe(turn, offer),
        reference=", ".join(references),
    )
    # Pay now: payee, IBAN, BIC, amount and reference, the EPC QR code, a plan's agreement.
    details = await store.payment_details(promise_id)
    if details is not None:
        paying = paydetails.confirmation(turn, details, settings=get_settings())
        dispatcher.utter_message(text=paying.text)
        for image in paying.images:
            dispatcher.utter_message(image=image)
        if paying.agreement:
            dispatcher.utter_message(text=paying.agreement)
    return [
        SlotSet("pending_offer", None),
        SlotSet("awaiting", None),
        SlotSet("counter_offers", 0.0),
    ]
