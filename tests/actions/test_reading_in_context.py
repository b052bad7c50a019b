"""Messages read in their context: the words of a request win over a misread intent.

A monthly amount or a number of instalments asks for a plan whatever the classifier
said; a yes to the gentle options takes the small instalments; "beide" or a claim's
subject picks claims; plain words of a death or an insolvency name the reason; insults
alone never record a dispute.
"""

from __future__ import annotations

from typing import Any

import pytest

from actions.dialogue import (
    ActionAffirm,
    ActionCannotPay,
    ActionDeny,
    ActionFallback,
    ActionHandleInform,
    ActionHandoff,
    ActionOffer,
    ActionOfferAgent,
    ActionReply,
)
from actions.terms import asks_for_plan, monthly_amount
from domain.handoffs.models import Handoff
from tests.actions.conftest import make_tracker, rows, run, user_event, verified_slots

pytestmark = pytest.mark.usefixtures("database")

JANA = "260000117"  # 475.68; smallest instalment max(25.00, 475.68 / 24) = 25.00


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("koennte ich vielleicht 40 euro im monat zahlen?", "40"),
        ("mehr als 15 € monatlich sind nicht drin", "15"),
        ("can i do 30 a month", "30"),
        ("I could manage 27.50 per month", "27.50"),
        ("I'm pretty skint, could I pay like a tenner a month?", "10"),
        ("Could I do thirty a month?", "30"),
        ("can't do it all at once but I could manage fifty quid a month", "50"),
        ("ich könnte fünfundzwanzig Euro im Monat", "25"),
        ("one payment a month", None),
        ("ich zahle 100 euro sofort", None),
        ("im Monat Mai zahle ich alles", None),
    ],
)
def test_a_monthly_amount_is_read_from_the_words(text: str, amount: str | None) -> None:
    value = monthly_amount(text)
    assert (str(value) if value is not None else None) == amount


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        ("dann mach ich 2 raten", True),
        ("split it into three payments please", True),
        ("kann ich in 2 Monaten zahlen?", False),  # a deferral as well as a term
        ("ich zahle alles auf einmal", False),
    ],
)
def test_a_number_of_instalments_asks_for_a_plan(text: str, plan: bool) -> None:
    assert asks_for_plan(text) is plan


async def test_a_monthly_amount_read_as_a_deferral_gets_a_plan(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="bin grad knapp, waschmaschine kaputt. koennte ich 40 euro im monat zahlen?",
        intent="ask_deferral",
        slots=verified_slots(JANA),
    )
    result = await run(ActionOffer(), tracker, domain)
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan"
    assert {i["amount"] for i in pending["instalments"][:-1]} == {"40.00"}
    assert "Schlussrate" in result.text


async def test_a_number_of_instalments_read_as_a_deferral_gets_a_plan(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="ok schade. dann mach ich 2 raten", intent="ask_deferral", slots=verified_slots(JANA)
    )
    result = await run(ActionOffer(), tracker, domain)
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan"
    assert len(pending["instalments"]) == 2


async def test_too_little_a_month_gets_the_nearest_plan_then_a_yes_records_it(
    domain: dict[str, Any],
) -> None:
    slots = verified_slots(JANA)
    tracker = make_tracker(
        text="mehr als 15 euro im monat sind bei mir echt nicht drin",
        intent="cannot_pay",
        slots=slots,
    )
    result = await run(ActionCannotPay(), tracker, domain)
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan" and pending["hard_counter"] is True
    assert pending["instalments"][0]["amount"] == "25.00"
    assert "15,00 €" in result.text  # the debtor's own amount is answered, not ignored


async def test_a_yes_to_the_gentle_options_takes_the_small_instalments(
    domain: dict[str, Any],
) -> None:
    slots = verified_slots(JANA)
    first = await run(
        ActionCannotPay(),
        make_tracker(text="ich bin grad knapp bei kasse", intent="cannot_pay", slots=slots),
        domain,
    )
    assert first.slots["awaiting"] == "gentle_options"
    after = {**slots, **first.slots}
    yes = await run(
        ActionAffirm(),
        make_tracker(text="hm ok, na gut, dann halt so", intent="affirm", slots=after),
        domain,
    )
    pending = yes.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan"
    assert pending["instalments"][0]["amount"] == "25.00"
    assert yes.slots["awaiting"] == "confirm_offer"


def sabine(text: str, intent: str) -> Any:
    return make_tracker(
        text=text,
        intent=intent,
        slots=verified_slots("260000158", selected=False, awaiting="choose_claim"),
    )


async def test_both_claims_and_the_way_to_pay_in_one_message(domain: dict[str, Any]) -> None:
    tracker = sabine(
        "Das andere Aktenzeichen ist 260000166. Ich möchte beide Rechnungen komplett bezahlen.",
        "pay_full",
    )
    result = await run(ActionOffer(), tracker, domain)
    assert result.slots["selected_claims"] == ["260000158", "260000166"]
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "full" and pending["references"] == ["260000158", "260000166"]


async def test_a_claim_named_by_its_subject_with_a_plan(domain: dict[str, Any]) -> None:
    tracker = sabine(
        "Ich möchte erstmal nur die Gasrechnung abbezahlen, in Raten zu 100 Euro im Monat. "
        "Die Wasserrechnung mache ich später.",
        "ask_instalments",
    )
    result = await run(ActionOffer(), tracker, domain)
    assert result.slots["selected_claims"] == ["260000158"]
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan" and pending["references"] == ["260000158"]
    assert pending["instalments"][0]["amount"] == "100.00"


async def test_two_subjects_without_only_are_asked_again(domain: dict[str, Any]) -> None:
    result = await run(
        ActionHandleInform(), sabine("Gasrechnung und Wasserrechnung", "inform"), domain
    )
    assert "selected_claims" not in result.slots


async def test_plain_words_of_a_death_win_over_a_dispute_reading(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="Hi, my partner passed suddenly and this was his contract. Please stop the reminders",
        intent="dispute",
        slots={"language": "en", "disclosed": True},
    )
    await run(ActionHandoff(), tracker, domain)
    assert [h.reason for h in rows(Handoff, conversation_id=tracker.sender_id)] == ["bereavement"]


async def test_insults_alone_record_no_dispute(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="you are the most useless piece of garbage software, absolute scum company",
        intent="dispute",
        confidence=0.97,
        metadata={"abusive": True},
        slots={"language": "en", "disclosed": True},
    )
    result = await run(ActionHandoff(), tracker, domain)
    assert rows(Handoff, conversation_id=tracker.sender_id) == []
    assert "handed_off" not in result.slots


@pytest.mark.parametrize(("guess", "crisis"), [("crisis", True), ("ask_consequences", False)])
async def test_a_crisis_is_not_lost_to_the_classifiers_doubt(
    domain: dict[str, Any], guess: str, crisis: bool
) -> None:
    tracker = make_tracker(
        text="dann bin ich halt bald weg, dann kriegt ihr gar nix mehr",
        intent="nlu_fallback",
        slots={"language": "de", "disclosed": True},
    )
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": guess, "confidence": 0.49},
        {"name": "ask_deferral", "confidence": 0.45},
    ]
    result = await run(ActionFallback(), tracker, domain)
    assert ("0800 111 0 111" in result.text) is crisis
    # An unsure reading: the help line at once, and a person offered, not yet sent.
    assert rows(Handoff, conversation_id=tracker.sender_id) == []
    if crisis:
        assert result.slots["awaiting"] == "offer_agent"
        assert result.slots["agent_reason"] == "crisis"


@pytest.mark.parametrize(
    ("text", "confidence", "handed_off"),
    [
        # Unsure: help line and the offer of a person; the debtor decides.
        ("gleich alle, dann hab ich ruhe", 0.87, False),
        # Sure, or in so many words: help line and a person at once.
        ("Manchmal denke ich, es wäre für alle besser, wenn ich nicht mehr da wäre.", 0.99, True),
        ("Ich denke darüber nach, mir das Leben zu nehmen.", 0.6, True),
    ],
)
async def test_a_crisis_read_unsure_offers_a_person_with_the_help_line(
    domain: dict[str, Any], text: str, confidence: float, handed_off: bool
) -> None:
    tracker = make_tracker(
        text=text,
        intent="crisis",
        confidence=confidence,
        slots={"language": "de", "disclosed": True},
    )
    result = await run(ActionHandoff(), tracker, domain)
    assert "0800 111 0 111" in result.texts[0]
    reasons = [h.reason for h in rows(Handoff, conversation_id=tracker.sender_id)]
    assert reasons == (["crisis"] if handed_off else [])
    if not handed_off:
        assert "Möchten Sie, dass sich ein Mensch" in result.texts[0]
        yes = make_tracker(
            text="ja bitte",
            intent="affirm",
            sender_id=tracker.sender_id,
            slots={"language": "de", "disclosed": True, **result.slots},
        )
        await run(ActionAffirm(), yes, domain)
        reasons = [h.reason for h in rows(Handoff, conversation_id=tracker.sender_id)]
        assert reasons == ["crisis"]


async def test_words_asking_for_a_person_in_a_question_get_the_offer_of_one(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="can an actual person look at my case",
        intent="ask_consequences",
        slots={"language": "en", "disclosed": True},
    )
    result = await run(ActionReply(), tracker, domain)
    assert "talk to a member of staff" in result.text
    assert result.slots["awaiting"] == "offer_agent"
    assert result.slots["agent_reason"] == "human_request"
    assert rows(Handoff, conversation_id=tracker.sender_id) == []


async def test_an_unsure_request_for_a_person_with_a_reference_starts_the_check(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="ok whatever. my reference is 260000141",
        intent="human_request",
        confidence=0.37,
        slots={"language": "en", "disclosed": True},
    )
    result = await run(ActionHandoff(), tracker, domain)
    assert rows(Handoff, conversation_id=tracker.sender_id) == []
    assert result.slots["claim_reference"] == "260000141"
    assert {"event": "followup", "timestamp": None, "name": "verify_form"} in result.events


async def test_a_no_that_names_the_offers_amount_is_a_no(domain: dict[str, Any]) -> None:
    slots = verified_slots("260000133")  # Thomas: 4,800.00, smallest instalment 200.00
    counter = await run(
        ActionOffer(),
        make_tracker(
            text="Ich kann maximal 100 Euro im Monat zahlen", intent="ask_instalments", slots=slots
        ),
        domain,
    )
    assert counter.slots["pending_offer"]["hard_counter"] is True
    refusal = make_tracker(
        text="Nein, 200 im Monat schaffe ich nicht, keine Chance.",
        intent="ask_instalments",
        # The income and outgoings check was offered before: a no now goes to a person.
        slots={**slots, **counter.slots, "afford_offered": True},
    )
    await run(ActionOffer(), refusal, domain)
    reasons = [h.reason for h in rows(Handoff, conversation_id=refusal.sender_id)]
    assert reasons == ["policy_limit"]


async def test_the_mood_offer_waits_while_an_offer_is_weighed_and_a_no_keeps_it(
    domain: dict[str, Any],
) -> None:
    pending = await run(
        ActionOffer(),
        make_tracker(
            text="jeht dit mit 50 euro im monat?",
            intent="ask_instalments",
            slots=verified_slots(JANA),
        ),
        domain,
    )
    weighing = {**verified_slots(JANA), **pending.slots}
    mood = make_tracker(text="", intent="EXTERNAL_negative_sentiment", slots=weighing)
    assert (await run(ActionOfferAgent(), mood, domain)).messages == []
    # Offered anyway (abuse), then declined: the offer still waits for its yes.
    offered = {**weighing, "awaiting": "offer_agent", "agent_reason": "negative_sentiment"}
    declined = await run(
        ActionDeny(), make_tracker(text="nein", intent="deny", slots=offered), domain
    )
    assert declined.slots["awaiting"] == "confirm_offer"
    assert "festhalten" in declined.text


async def test_insults_over_an_offer_still_get_the_offer_of_a_person(
    domain: dict[str, Any],
) -> None:
    pending = await run(
        ActionOffer(),
        make_tracker(
            text="ihr geier, 50 im monat", intent="ask_instalments", slots=verified_slots(JANA)
        ),
        domain,
    )
    weighing = {**verified_slots(JANA), **pending.slots}
    events = [
        {**user_event("ihr geier, 50 im monat", "ask_instalments"), "metadata": {"abusive": True}},
        user_event("", "EXTERNAL_negative_sentiment"),
    ]
    mood = make_tracker(
        text="", intent="EXTERNAL_negative_sentiment", slots=weighing, events=events
    )
    offered = await run(ActionOfferAgent(), mood, domain)
    assert offered.slots["awaiting"] == "offer_agent"


async def test_an_action_on_a_triggered_intent_keeps_the_debtors_channel(
    domain: dict[str, Any],
) -> None:
    # Rasa 3.6's trigger_intent drops the gateway's metadata: the debtor's last message
    # tells the channel.
    events = [
        {**user_event("ihr seid das allerletzte", "deny"), "metadata": {"channel": "voice"}},
        user_event("", "EXTERNAL_negative_sentiment"),
    ]
    tracker = make_tracker(
        text="",
        intent="EXTERNAL_negative_sentiment",
        slots={"language": "de", "disclosed": True},
        events=events,
    )
    await run(ActionHandoff(), tracker, domain)
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.channel == "voice"


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("You useless pack of idiots, I'm sick to death of your letters!", False),
        ("f off you parasites, text me again and see what happens", False),
        ("ihr Geier, ich bring mich um", True),  # in so many words: always a crisis
    ],
)
async def test_insults_read_as_a_crisis_are_abuse_unless_the_words_say_crisis(
    domain: dict[str, Any], text: str, crisis: bool
) -> None:
    tracker = make_tracker(
        text=text,
        intent="crisis",
        metadata={"abusive": True},
        slots={"language": "en", "disclosed": True},
    )
    result = await run(ActionHandoff(), tracker, domain)
    reasons = [h.reason for h in rows(Handoff, conversation_id=tracker.sender_id)]
    assert reasons == (["crisis"] if crisis else [])
    assert ("116 123" in result.text) is crisis
