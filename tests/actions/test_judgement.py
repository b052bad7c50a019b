"""Judgement (issue 10): mood changes the tone, high-stakes reasons are checked, language holds."""

from __future__ import annotations

from typing import Any

import pytest

from actions.claims import ActionExplainClaim
from actions.context import choose_language
from actions.dialogue import (
    ActionAffirm,
    ActionDeny,
    ActionFallback,
    ActionGreet,
    ActionHandoff,
    ActionOffer,
    ActionOfferAgent,
)
from actions.offers import idempotency_key
from actions.texts import text
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff
from domain.promises.models import Promise
from tests.actions.conftest import amount, make_tracker, rows, run, verified_slots

pytestmark = pytest.mark.usefixtures("database")
UNSURE = 0.6  # a classifier reading below actions.escalation.PLAIN_CONFIDENCE


async def test_an_unsure_dispute_is_checked_and_nothing_is_recorded(
    domain: dict[str, Any],
) -> None:
    words = "hm, das kommt mir alles komisch vor"
    tracker = make_tracker(
        text=words, intent="dispute", confidence=UNSURE, slots=verified_slots("260000117")
    )
    result = await run(ActionHandoff(), tracker, domain)
    assert result.texts == [text(domain, "utter_confirm_dispute", "de")]
    assert result.slots["awaiting"] == "offer_agent"
    assert result.slots["agent_reason"] == "dispute"
    assert result.slots["reason_text"] == words
    assert rows(Dispute, conversation_id=tracker.sender_id) == []
    assert rows(Handoff, conversation_id=tracker.sender_id) == []


async def test_a_yes_to_the_check_records_the_dispute_in_the_debtors_words(
    domain: dict[str, Any],
) -> None:
    words = "das kommt mir alles komisch vor"
    slots = verified_slots(
        "260000117", awaiting="offer_agent", agent_reason="dispute", reason_text=words
    )
    tracker = make_tracker(text="ja genau", intent="affirm", slots=slots)
    result = await run(ActionAffirm(), tracker, domain)
    assert result.texts == [text(domain, "utter_handoff_dispute", "de")]
    [dispute] = rows(Dispute, conversation_id=tracker.sender_id)
    assert dispute.reason_text == words and dispute.claim_reference == "260000117"
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.reason == "dispute"


async def test_a_no_to_the_check_goes_on_without_a_person(domain: dict[str, Any]) -> None:
    slots = verified_slots(
        "260000117", awaiting="offer_agent", agent_reason="insolvency", reason_text="x"
    )
    tracker = make_tracker(text="nein nein", intent="deny", slots=slots)
    result = await run(ActionDeny(), tracker, domain)
    assert result.texts[0] == text(domain, "utter_continue_without_agent", "de")
    assert result.slots["awaiting"] != "offer_agent"
    assert result.slots["agent_reason"] is None
    assert rows(Handoff, conversation_id=tracker.sender_id) == []


@pytest.mark.parametrize(
    ("intent", "words", "reason"),
    [
        ("dispute", "Ich habe das nie bestellt!", "dispute"),
        ("insolvency", "ich bin in der Privatinsolvenz", "insolvency"),
        ("bereavement", "My husband passed away last month.", "bereavement"),
    ],
)
async def test_a_plain_statement_is_handed_off_even_when_the_classifier_is_unsure(
    domain: dict[str, Any], intent: str, words: str, reason: str
) -> None:
    tracker = make_tracker(
        text=words, intent=intent, confidence=UNSURE, slots=verified_slots("260000117")
    )
    await run(ActionHandoff(), tracker, domain)
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.reason == reason


async def test_a_request_for_a_person_is_never_checked(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="kann ich wen sprechen", intent="human_request", confidence=UNSURE, slots={}
    )
    await run(ActionHandoff(), tracker, domain)
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.reason == "human_request"


async def test_sustained_anger_offers_a_person_once(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="", intent="EXTERNAL_negative_sentiment", slots=verified_slots("260000117")
    )
    offered = await run(ActionOfferAgent(), tracker, domain)
    assert offered.texts == [text(domain, "utter_offer_agent_mood", "de")]
    assert offered.slots["agent_reason"] == "negative_sentiment"
    assert rows(Handoff, conversation_id=tracker.sender_id) == []
    again = make_tracker(
        text="",
        intent="EXTERNAL_negative_sentiment",
        slots=verified_slots(
            "260000117", awaiting="offer_agent", agent_reason="negative_sentiment"
        ),
    )
    assert (await run(ActionOfferAgent(), again, domain)).texts == []
    declined = make_tracker(
        text="",
        intent="EXTERNAL_negative_sentiment",
        slots=verified_slots("260000117", agent_offer_declined=True),
    )
    assert (await run(ActionOfferAgent(), declined, domain)).texts == []


async def test_a_yes_to_the_offer_hands_off_for_negative_sentiment(
    domain: dict[str, Any],
) -> None:
    slots = verified_slots("260000117", awaiting="offer_agent", agent_reason="negative_sentiment")
    tracker = make_tracker(text="yes please", intent="affirm", slots={**slots, "language": "en"})
    await run(ActionAffirm(), tracker, domain)
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.reason == "negative_sentiment"


@pytest.mark.parametrize(("mood", "language"), [("distressed", "de"), ("angry", "en")])
async def test_a_strong_mood_is_acknowledged_before_the_next_step(
    domain: dict[str, Any], mood: str, language: str
) -> None:
    tracker = make_tracker(
        text="hallo",
        intent="greet",
        metadata={"mood": mood},
        slots={"disclosed": True, "language": language},
    )
    result = await run(ActionGreet(), tracker, domain)
    assert result.texts[0] == text(domain, f"utter_ack_{mood}", language)
    assert len(result.texts) >= 2  # the greeting follows: the bot goes on
    assert rows(Handoff, conversation_id=tracker.sender_id) == []


@pytest.mark.parametrize(
    ("current", "guess", "hint", "words", "first", "expected"),
    [
        # A first message is read for what it is, over a channel's hint.
        (None, ("en", 0.9), "de", "good evening", True, ("en", True)),
        ("de", ("en", 0.9), None, "good evening", True, ("en", True)),
        # No evidence: nothing recorded, the hint or German is used.
        (None, None, "en", "ok", True, ("en", False)),
        (None, None, None, "hi", True, ("de", False)),
        # Once established, a short word never switches it.
        ("de", ("en", 0.95), None, "yes please", False, ("de", False)),
        ("en", ("de", 0.95), None, "ja", False, ("en", False)),
        # A verified debtor's recorded language (the hint) wins over short words too.
        (None, ("en", 0.95), "de", "ok thanks", False, ("de", False)),
        # A clear sentence in the other language switches.
        ("de", ("en", 0.9), None, "sorry, can we continue in English please", False, ("en", True)),
        # The same language again is recorded (the conversation's language is kept current).
        ("de", ("de", 0.9), None, "ja gerne", False, ("de", True)),
    ],
)
def test_choose_language(
    current: str | None,
    guess: tuple[str, float] | None,
    hint: str | None,
    words: str,
    first: bool,
    expected: tuple[str, bool],
) -> None:
    assert (
        choose_language(current=current, guess=guess, hint=hint, text=words, first_message=first)
        == expected
    )


async def test_the_offers_own_amount_said_back_accepts_it(domain: dict[str, Any]) -> None:
    countered = make_tracker(
        text="mehr als 15 im monat geht nicht",
        intent="ask_instalments",
        entities=[amount("15")],
        slots=verified_slots("260000117"),
    )
    pending = (await run(ActionOffer(), countered, domain)).slots["pending_offer"]
    slots = verified_slots("260000117", awaiting="confirm_offer", pending_offer=pending)
    # The classifier read a settlement; the words name the counter offer's own 25.
    said_back = make_tracker(
        text="hm naja gut, dann halt 25, wird eng",
        intent="ask_settlement",
        entities=[amount("25")],
        slots=slots,
    )
    accepted = await run(ActionOffer(), said_back, domain)
    [promise] = rows(Promise, idempotency_key=idempotency_key(said_back.sender_id, pending))
    assert promise.kind == "instalment_plan"
    assert accepted.slots["pending_offer"] is None
    # A "no" with the same amount is no yes.
    refused = make_tracker(
        text="nein, 25 ist zu viel",
        intent="inform",
        entities=[amount("25")],
        slots=slots,
        sender_id="someone-else",
    )
    await run(ActionOffer(), refused, domain)
    assert rows(Promise, idempotency_key=idempotency_key("someone-else", pending)) == []


async def test_a_reference_the_classifier_did_not_understand_starts_the_check(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="hello, i have letter about fitness studio, 260000133", intent="nlu_fallback"
    )
    result = await run(ActionFallback(), tracker, domain)
    assert result.slots["claim_reference"] == "260000133"
    assert result.followups() == ["verify_form"]


@pytest.mark.parametrize(
    ("words", "reason", "handed_off"),
    [
        ("meine Schuldnerberaterin kümmert sich um alles", "insolvency", True),
        ("we lost our baby last week", "bereavement", True),
        ("hatte nen Schlaganfall, mir fällt das schwer", "vulnerability", False),
    ],
)
async def test_the_keyword_net_catches_what_the_classifier_read_otherwise(
    domain: dict[str, Any], words: str, reason: str, handed_off: bool
) -> None:
    tracker = make_tracker(
        text=words, intent="ask_claim_details", slots=verified_slots("260000117")
    )
    result = await run(ActionGreet(), tracker, domain)
    handoffs = rows(Handoff, conversation_id=tracker.sender_id)
    if handed_off:
        assert [h.reason for h in handoffs] == [reason]
    else:  # checked first: "Verstehe ich richtig …?"
        assert handoffs == []
        assert result.slots["agent_reason"] == reason


async def test_abuse_read_as_an_unsure_reason_is_left_to_the_offer_of_a_person(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="I am so sick of you thieves, you parasites should rot",
        intent="vulnerability",
        confidence=UNSURE,
        metadata={"abusive": True, "mood": "angry"},
        slots=verified_slots("260000117"),
    )
    result = await run(ActionHandoff(), tracker, domain)
    # Acknowledged, nothing recorded; the gateway offers a person right after.
    assert result.texts == [text(domain, "utter_ack_angry", "de")]  # (verified slots: de)
    assert "awaiting" not in result.slots
    assert rows(Handoff, conversation_id=tracker.sender_id) == []


async def test_a_yes_naming_another_amount_is_a_new_request_not_a_promise(
    domain: dict[str, Any],
) -> None:
    asked = make_tracker(
        text="could I pay in instalments?",
        intent="ask_instalments",
        slots=verified_slots("260000117"),
    )
    pending = (await run(ActionOffer(), asked, domain)).slots["pending_offer"]
    assert pending["instalments"][0]["amount"] != "25.00"  # the default plan
    slots = verified_slots("260000117", awaiting="confirm_offer", pending_offer=pending)
    tracker = make_tracker(text="ok 25 is doable I suppose", intent="affirm", slots=slots)
    result = await run(ActionAffirm(), tracker, domain)
    assert rows(Promise, idempotency_key=idempotency_key(tracker.sender_id, pending)) == []
    assert [i["amount"] for i in result.slots["pending_offer"]["instalments"][:2]] == [
        "25.00",
        "25.00",
    ]
    # A plain yes still records what was offered.
    plain_yes = make_tracker(text="yes", intent="affirm", slots=slots, sender_id="plain-yes")
    await run(ActionAffirm(), plain_yes, domain)
    assert rows(Promise, idempotency_key=idempotency_key("plain-yes", pending))


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("I have learning difficulties and I dont understand this letter", "vulnerability"),
        ("Die Rechnung war über 49,90. Diesen Betrag erkenne ich nicht an.", "dispute"),
    ],
)
async def test_a_check_in_a_first_message_waits_for_its_answer(
    domain: dict[str, Any], words: str, reason: str
) -> None:
    # Unverified, read as a question about the claim: the rule would go on to the identity
    # check. The one-line check is the only question; the next message answers it.
    tracker = make_tracker(text=words, intent="ask_claim_details")
    result = await run(ActionExplainClaim(), tracker, domain)
    assert result.slots["agent_reason"] == reason
    assert result.followups() == ["action_listen"]
    assert rows(Handoff, conversation_id=tracker.sender_id) == []
