"""Explaining claims after verification, and choosing one or all of them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import broken, store
from actions.base import QuittAction
from actions.context import Turn, extract_reference, policy_named, today
from actions.escalation import hand_off
from actions.formatting import day, money
from actions.offers import ask_payment_way, resume_goal
from actions.store import ClaimView
from actions.texts import say, text
from policy.plans import minimum_instalment

# The goal of a debtor who said money is tight before verification.
CANNOT_PAY = "cannot_pay"
# What a yes refers to after the gentle options were put to a debtor short of money.
GENTLE_OPTIONS = "gentle_options"


def collectable(claim: ClaimView) -> bool:
    """Return whether payment may be asked for on this claim."""
    return claim.status == "open" and not claim.has_open_dispute


def explain(turn: Turn, dispatcher: CollectingDispatcher, claim: ClaimView) -> None:
    """Tell the debtor creditor, subject, principal, interest, fees, total and due date."""
    lang = turn.language
    say(
        dispatcher,
        turn.domain,
        "utter_claim_details",
        lang,
        reference=claim.reference,
        creditor=claim.creditor,
        subject=claim.subject,
        principal=money(claim.principal, lang, claim.currency),
        interest=money(claim.interest, lang, claim.currency),
        fees=money(claim.fees, lang, claim.currency),
        total=money(claim.total, lang, claim.currency),
        due_date=day(claim.due_date, lang),
    )
    if claim.balance < claim.total:
        # After part payments: what came in and what is still open (offers are on this).
        say(
            dispatcher,
            turn.domain,
            "utter_claim_balance",
            lang,
            paid=money(claim.total - claim.balance, lang, claim.currency),
            balance=money(claim.balance, lang, claim.currency),
        )


def _overview(turn: Turn, dispatcher: CollectingDispatcher, claims: list[ClaimView]) -> None:
    lang = turn.language
    lines = "\n".join(
        f"{n}. {c.reference} – {c.creditor}: {c.subject} ({money(c.balance, lang, c.currency)})"
        for n, c in enumerate(claims, start=1)
    )
    buttons = [
        {
            "title": f"{n}. {c.reference} ({money(c.balance, lang, c.currency)})",
            "payload": f'/inform{{"claim_choice":"{c.reference}"}}',
        }
        for n, c in enumerate(claims, start=1)
    ]
    buttons.append(
        {"title": text(turn.domain, "utter_all_claims_button", lang), "payload": "/choose_all"}
    )
    say(
        dispatcher,
        turn.domain,
        "utter_claims_overview",
        lang,
        buttons=buttons,
        count=len(claims),
        lines=lines,
    )


async def present_claims(
    turn: Turn, dispatcher: CollectingDispatcher, *, goal: dict[str, Any] | None
) -> list[EventType]:
    """After verification: say what is owed (or why nothing is asked) and move on."""
    claims = await store.claims_of_debtor(int(turn.slot("debtor_id")))
    verified = turn.slot("claim_reference")
    if any(c.status == "insolvency" for c in claims):
        # No collection at all while insolvency proceedings run.
        return await hand_off(turn, dispatcher, "insolvency")
    open_claims = [c for c in claims if collectable(c)]
    for claim in claims:
        if claim.reference == verified and claim.status == "paid":
            say(
                dispatcher,
                turn.domain,
                "utter_claim_paid",
                turn.language,
                reference=claim.reference,
            )
        elif claim.reference == verified and not collectable(claim):
            say(
                dispatcher,
                turn.domain,
                "utter_claim_disputed",
                turn.language,
                reference=claim.reference,
            )
            if not open_claims:
                return [SlotSet("awaiting", "offer_agent"), SlotSet("agent_reason", "dispute")]
    if not open_claims:
        if not any(c.reference == verified and c.status == "paid" for c in claims):
            say(dispatcher, turn.domain, "utter_nothing_to_collect", turn.language)
        return [SlotSet("selected_claims", []), SlotSet("awaiting", None)]
    # A promise that broke: a new plan, or after a second break a person (CONTRACT §4).
    if (replan := await broken.welcome_back(turn, dispatcher, open_claims, goal=goal)) is not None:
        return replan
    if len(open_claims) == 1:
        return await select(turn, dispatcher, open_claims, goal=goal)
    _overview(turn, dispatcher, open_claims)
    return [SlotSet("awaiting", "choose_claim"), SlotSet("goal", goal)]


async def select(
    turn: Turn,
    dispatcher: CollectingDispatcher,
    claims: list[ClaimView],
    *,
    goal: dict[str, Any] | None,
) -> list[EventType]:
    """Settle on the claims the debtor wants to talk about, explain them, resume the goal."""
    if len(claims) == 1:
        explain(turn, dispatcher, claims[0])
    else:
        lang = turn.language
        total = sum((c.balance for c in claims), Decimal("0"))
        what = ", ".join(c.reference for c in claims)
        say(
            dispatcher,
            turn.domain,
            "utter_selected_claims",
            lang,
            what=what,
            total=money(total, lang, claims[0].currency),
        )
    events: list[EventType] = [
        SlotSet("selected_claims", [c.reference for c in claims]),
        SlotSet("awaiting", None),
        SlotSet("goal", None),
        SlotSet("counter_offers", 0.0),
    ]
    if goal and goal.get("kind") == CANNOT_PAY:
        return events + gentle_options(turn, dispatcher, claims)
    if goal and goal.get("kind"):
        return events + await resume_goal(turn, dispatcher, claims, goal)
    return events + ask_payment_way(turn, dispatcher, claims)


_ALL_OF_THEM = re.compile(
    r"\b(beide|beiden|alle beide|alle zusammen|alle drei|beide forderungen|alle forderungen"
    r"|both|all of them|all together|altogether|all (the |my )?(claims|bills|letters))\b"
)
_ONLY = re.compile(r"\b(nur|erstmal|erst mal|zuerst|only|first|just)\b")
_BILL_SUFFIX = re.compile(r"(ab)?rechnung$|bill$")


def _stem(claim: ClaimView) -> str | None:
    """Return the word a debtor would call the claim by: "gas" for "Gasabrechnung 2025"."""
    words = re.findall(r"[a-zäöüß]+", claim.subject.casefold())
    if not words:
        return None
    stem = _BILL_SUFFIX.sub("", words[0])
    return stem if len(stem) >= 3 else None


def _named_by_subject(text: str, claims: list[ClaimView]) -> list[ClaimView]:
    """Return the claim the debtor names by its subject ("nur die Gasrechnung"), if one."""
    folded = text.casefold()
    stems = {c.reference: _stem(c) for c in claims}
    if len({s for s in stems.values() if s}) < len(claims):
        return []  # two claims about the same thing: only a reference tells them apart
    positions: list[tuple[int, ClaimView]] = []
    for claim in claims:
        stem = stems[claim.reference]
        match = re.search(r"\b" + re.escape(stem), folded) if stem else None
        if match:
            positions.append((match.start(), claim))
    if len(positions) == 1:
        return [positions[0][1]]
    if len(positions) > 1 and _ONLY.search(folded):
        return [min(positions, key=lambda p: p[0])[1]]
    return []


async def picked_claims(turn: Turn, choice: str | None = None) -> list[ClaimView]:
    """Return the open claims the debtor picked: by reference, list number, "beide", subject."""
    claims = [
        c
        for c in await store.claims_of_debtor(int(turn.slot("debtor_id")))
        if c.status == "open" and not c.has_open_dispute
    ]
    if len(claims) > 1 and _ALL_OF_THEM.search(turn.text.casefold()):
        # "Das andere Aktenzeichen ist …, ich möchte beide komplett bezahlen."
        return claims
    wanted = choice or extract_reference(turn.text)
    picked = [c for c in claims if c.reference == wanted]
    if not picked:
        digits = turn.text.strip().rstrip(".")
        if digits.isdigit() and 1 <= int(digits) <= len(claims):
            picked = [claims[int(digits) - 1]]
    if not picked and len(claims) > 1 and choice is None:
        picked = _named_by_subject(turn.text, claims)
    return picked


def gentle_options(
    turn: Turn, dispatcher: CollectingDispatcher, claims: list[ClaimView]
) -> list[EventType]:
    """Money is tight: say what the policy allows at its gentlest, then ask what suits."""
    policy = policy_named(claims[0].policy)
    total = sum((c.balance for c in claims), Decimal("0"))
    lang = turn.language
    say(
        dispatcher,
        turn.domain,
        "utter_cannot_pay",
        lang,
        floor=money(minimum_instalment(total=total, policy=policy), lang, claims[0].currency),
        max_date=day(today() + timedelta(days=policy.deferral_max_days), lang),
    )
    events = ask_payment_way(turn, dispatcher, claims, key="utter_how_can_i_help")
    # A plain yes to these options takes the small instalments (see ActionAffirm).
    return [*events, SlotSet("counter_offers", 1.0), SlotSet("awaiting", GENTLE_OPTIONS)]


async def selected_claims(turn: Turn) -> list[ClaimView]:
    """Return the claims currently chosen, still collectable."""
    references = turn.slot("selected_claims") or []
    debtor_id = turn.slot("debtor_id")
    if not references or debtor_id is None:
        return []
    chosen = await store.claims_by_reference(references, debtor_id=int(debtor_id))
    return [c for c in chosen if collectable(c)]


class ActionExplainClaim(QuittAction):
    """Answers "what do I owe and why" once identity is verified."""

    needs_verification = True

    def name(self) -> str:
        """Name the action."""
        return "action_explain_claim"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Explain the chosen claims, or all of the debtor's."""
        chosen = await selected_claims(turn)
        if not chosen:
            return await present_claims(turn, dispatcher, goal=None)
        for claim in chosen:
            explain(turn, dispatcher, claim)
        return ask_payment_way(turn, dispatcher, chosen)


class ActionChooseAll(QuittAction):
    """The debtor wants to settle all their open claims together."""

    needs_verification = True

    def name(self) -> str:
        """Name the action."""
        return "action_choose_all"

    async def handle(self, turn: Turn, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Select every collectable claim of the debtor."""
        claims = [
            c for c in await store.claims_of_debtor(int(turn.slot("debtor_id"))) if collectable(c)
        ]
        if not claims:
            say(dispatcher, turn.domain, "utter_nothing_to_collect", turn.language)
            return []
        return await select(turn, dispatcher, claims, goal=turn.slot("goal"))
