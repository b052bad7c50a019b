"""A yes at the start of the answer to an offer is a yes, whatever else the words hold.

"go for it, cheers" (read as a goodbye), "Yes, both, please" (read as choosing claims),
"Yes, next Friday, the whole lot" (read as a new deferral): each accepts the offer
awaiting a yes. A hedge, a question, a no, or other terms leave the message to its
intent (issue 10, blind round D).
"""

from __future__ import annotations

from typing import Any

import pytest

from actions.dialogue import ActionOffer, ActionReply
from tests.actions.conftest import make_tracker, run, verified_slots

pytestmark = pytest.mark.usefixtures("database")

JANA = "260000117"  # 475.68


async def _offered(domain: dict[str, Any], text: str, intent: str, **entities: str) -> Any:
    slots = verified_slots(JANA)
    ents = [{"entity": k, "value": v} for k, v in entities.items()]
    result = await run(
        ActionOffer(), make_tracker(text=text, intent=intent, slots=slots, entities=ents), domain
    )
    assert result.slots["awaiting"] == "confirm_offer"
    return {**slots, **result.slots}


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        ("go for it, cheers", "goodbye", {}),
        ("Yes, thanks", "thank", {}),
        ("ja passt, danke dir", "thank", {}),
        ("jo mach", "chitchat", {}),
    ],
)
async def test_a_leading_yes_accepts_the_pending_offer(
    domain: dict[str, Any], text: str, intent: str, entities: dict[str, str]
) -> None:
    after = await _offered(domain, "alles auf einmal bitte", "pay_full")
    ents = [{"entity": k, "value": v} for k, v in entities.items()]
    yes = await run(
        ActionReply(), make_tracker(text=text, intent=intent, slots=after, entities=ents), domain
    )
    assert yes.slots.get("pending_offer", "kept") is None  # recorded: the offer is gone
    assert yes.slots.get("awaiting", "kept") is None


async def test_a_yes_that_repeats_the_offers_date_accepts_it(domain: dict[str, Any]) -> None:
    after = await _offered(domain, "kann ich am 21.12. alles zahlen?", "ask_deferral")
    due = after["pending_offer"]["due_date"]
    yes = await run(
        ActionOffer(),
        make_tracker(
            text="Yes, that day, the whole lot.",
            intent="ask_deferral",
            slots=after,
            entities=[{"entity": "date", "value": due}],
        ),
        domain,
    )
    assert yes.slots.get("pending_offer", "kept") is None


@pytest.mark.parametrize(
    "text",
    [
        "ja, aber erst im Januar",
        "yes but can I pay later?",
        "ok, no, that's too much",
        "yes, 30 a month",  # other terms: a new request, not this offer's yes
    ],
)
async def test_a_hedged_or_different_yes_is_no_acceptance(
    domain: dict[str, Any], text: str
) -> None:
    after = await _offered(domain, "alles auf einmal bitte", "pay_full")
    reply = await run(ActionReply(), make_tracker(text=text, intent="thank", slots=after), domain)
    assert reply.slots.get("pending_offer", "kept") != None  # noqa: E711 (not recorded)
