"""A debtor whose promise broke writes again (CONTRACT §4): a new plan, or a person.

After the identity check, a collectable claim whose latest promise is `broken` (the
payments sweep decides that, api/payments/sweep.py) changes what the bot says first:

* the first break: the debtor is welcomed back without reproach and offered a new
  plan on what is still owed (the claim's balance), with the smallest instalment the
  policy allows (its longest plan), since the last one did not fit; they may name
  another monthly amount, and a way to pay they asked for before the check is made
  instead;
* the second break on the same claim (any two broken promises covering it): a person
  takes over, reason `broken_promise`. Once such a handoff exists for the latest
  promise, an agent has seen it and the bot carries on as usual.

Nothing changes once a new promise is made: only the latest promise counts.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import store
from actions.context import Turn, policy_named
from actions.escalation import hand_off
from actions.formatting import money
from actions.offers import make_offer, resume_goal
from actions.store import ClaimView
from actions.texts import say, text
from policy.plans import longest_plan_months
from policy.reasons import BROKEN_PROMISE

# Audit: the debtor was offered a new plan after a broken promise.
WELCOMED = "broken_promise_welcomed"
# Broken promises on one claim after which a person takes over.
HAND_OFF_AT = 2


def _what(turn: Turn, claims: list[ClaimView]) -> str:
    """Name the claims in a sentence: "Forderung 260000117" or "den Forderungen …"."""
    if len(claims) == 1:
        return text(
            turn.domain, "utter_broken_promise_claim", turn.language, reference=claims[0].reference
        )
    references = ", ".join(c.reference for c in claims)
    return text(turn.domain, "utter_broken_promise_claims", turn.language, references=references)


async def welcome_back(
    turn: Turn,
    dispatcher: CollectingDispatcher,
    claims: list[ClaimView],
    *,
    goal: dict[str, Any] | None,
) -> list[EventType] | None:
    """Answer a broken promise among these collectable claims; None when there is none."""
    broken = {b.reference: b for b in await store.broken_promises([c.reference for c in claims])}
    pending = {ref: b for ref, b in broken.items() if not b.handed_off}
    if not pending:
        return None
    again = [ref for ref, b in pending.items() if b.count >= HAND_OFF_AT]
    if again:
        # The handoff is about the claim that broke twice, not the one the check used.
        about = replace(turn, slots={**turn.slots, "selected_claims": [again[0]]})
        return await hand_off(about, dispatcher, BROKEN_PROMISE)
    chosen = [c for c in claims if c.reference in pending]
    await store.audit(
        WELCOMED,
        sender_id=turn.sender_id,
        claim_reference=chosen[0].reference,
        reasons=("broken_promise_replan",),
        data={"claims": [c.reference for c in chosen]},
    )
    plan = any(pending[c.reference].kind == "instalment_plan" for c in chosen)
    asked = goal.get("kind") if goal else None
    key = (
        "utter_broken_promise_other_way"
        if asked
        else ("utter_broken_promise_instalment" if plan else "utter_broken_promise_payment")
    )
    lang, currency = turn.language, chosen[0].currency
    balance = sum((c.balance for c in chosen), Decimal("0"))
    say(
        dispatcher,
        turn.domain,
        key,
        lang,
        what=_what(turn, chosen),
        balance=money(balance, lang, currency),
    )
    events: list[EventType] = [
        SlotSet("selected_claims", [c.reference for c in chosen]),
        SlotSet("awaiting", None),
        SlotSet("goal", None),
        SlotSet("counter_offers", 0.0),
    ]
    from actions.claims import CANNOT_PAY, gentle_options  # (claims builds on this module)

    if asked == CANNOT_PAY:
        return events + gentle_options(turn, dispatcher, chosen)
    if asked and goal is not None:
        return events + await resume_goal(turn, dispatcher, chosen, goal)
    # The last payment did not fit: the new plan is the longest the policy allows, so
    # its instalments are the smallest (equal ones, each at least the policy's floor).
    months = longest_plan_months(total=balance, policy=policy_named(chosen[0].policy))
    return events + await make_offer(turn, dispatcher, chosen, "instalment_plan", months=months)
