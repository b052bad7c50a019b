"""The frame every action runs in, and the small turns: greet, reply, handoff, fallback."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action

from actions.claims import ActionChooseAll, ActionExplainClaim
from actions.dialogue import (
    ActionAffirm,
    ActionDeny,
    ActionFallback,
    ActionGreet,
    ActionHandleInform,
    ActionHandoff,
    ActionOffer,
    ActionReply,
    ActionSessionStart,
)
from domain.audit.models import AuditEvent
from domain.conversations.models import Conversation
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff
from tests.actions.conftest import (
    Result,
    amount,
    make_tracker,
    rows,
    run,
    user_event,
    verified_slots,
)

pytestmark = pytest.mark.usefixtures("database")

LISTEN = {"event": "followup", "timestamp": None, "name": "action_listen"}


# -- disclosure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [("de", ["automatisiert", "nicht mit einem Menschen"]), ("en", ["automated", "not chatting"])],
)
async def test_the_first_answer_discloses_the_assistant(
    domain: dict[str, Any], language: str, words: list[str]
) -> None:
    tracker = make_tracker(text="hallo", intent="greet", metadata={"language": language})
    result = await run(ActionGreet(), tracker, domain)
    first = result.texts[0]
    for word in words:
        assert word in first
    assert "Quitt Inkasso GmbH" in first and "https://quitt.example/datenschutz" in first
    assert "{" not in first
    assert result.events[0] == {
        "event": "slot",
        "timestamp": None,
        "name": "disclosed",
        "value": True,
    }


@pytest.mark.parametrize(
    ("action", "intent"),
    [
        (ActionGreet(), "greet"),
        (ActionReply(), "bot_challenge"),
        (ActionFallback(), "nlu_fallback"),
        (ActionDeny(), "deny"),
        (ActionOffer(), "pay_full"),
        (ActionHandoff(), "human_request"),
    ],
)
async def test_every_action_discloses_once(
    domain: dict[str, Any], action: Action, intent: str
) -> None:
    first = await run(action, make_tracker(text="hmm", intent=intent), domain)
    assert "automatisiert" in first.texts[0]
    assert first.slots["disclosed"] is True
    later = await run(
        action, make_tracker(text="hmm", intent=intent, slots={"disclosed": True}), domain
    )
    assert "disclosed" not in later.slots
    assert "Ich bin Quitt" not in later.text


async def test_a_new_session_discloses_again_and_drops_the_identity(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        slots={
            **verified_slots("260000117"),
            "language": "de",
            "goal": {"kind": "full"},
            "requested_slot": "identity_proof",
            "session_started_metadata": {"language": "en"},
        }
    )
    result = await run(ActionSessionStart(), tracker, domain)
    assert result.events[0]["event"] == "session_started"
    last = result.events[-1]
    assert (last["event"], last["name"]) == ("action", "action_listen")
    assert result.slots["disclosed"] is False
    for identity in ("verified", "selected_claims", "claim_reference", "debtor_id", "goal"):
        assert identity not in result.slots  # back to its initial value after SessionStarted
    assert result.slots["recheck"] is True
    assert result.slots["language"] == "en"  # the channel's hint wins over the old slot
    assert "requested_slot" not in result.slots
    assert "session_started_metadata" not in result.slots
    assert result.messages == []


async def test_a_new_session_of_an_unverified_debtor_keeps_only_the_language(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(slots={"language": "en", "claim_reference": "260000117"})
    result = await run(ActionSessionStart(), tracker, domain)
    assert result.slots == {"language": "en", "disclosed": False}


async def test_after_a_new_session_the_bot_says_why_it_checks_again(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="Wie hoch ist meine Forderung?",
        intent="ask_claim_details",
        slots={"language": "de", "disclosed": True, "recheck": True},
    )
    result = await run(ActionExplainClaim(), tracker, domain)
    assert "noch einmal" in result.texts[0]
    assert result.slots["recheck"] is False
    assert "412,50" not in result.text and "475,68" not in result.text
    assert "goal" in result.slots  # the identity check comes next (rule)


async def test_a_check_passed_after_a_long_pause_holds_in_its_own_turn(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="14.03.1987",
        intent="inform",
        slots=verified_slots("260000117", language="de"),
        events=[
            _user_at("260000117", "inform", 0),
            _user_at("14.03.1987", "inform", 45),
            {"event": "slot", "timestamp": None, "name": "verified", "value": True},
        ],
    )
    result = await run(ActionExplainClaim(), tracker, domain)
    assert "noch einmal" not in result.text
    assert "475,68" in result.text


def _user_at(text: str, intent: str, minute: float) -> dict[str, Any]:
    return {**user_event(text, intent), "timestamp": 1_700_000_000 + minute * 60}


@pytest.mark.parametrize(("silence", "expired"), [(29.5, False), (31, True)])
async def test_identity_expires_after_the_policys_silence(
    domain: dict[str, Any], silence: float, expired: bool
) -> None:
    tracker = make_tracker(
        text="Wie hoch ist meine Forderung?",
        intent="ask_claim_details",
        slots=verified_slots("260000117", language="en"),
        events=[
            _user_at("hi", "greet", 0),
            _user_at("Wie hoch ist meine Forderung?", "ask_claim_details", silence),
        ],
    )
    result = await run(ActionExplainClaim(), tracker, domain)
    if expired:
        assert "once more" in result.texts[0]
        assert result.slots["verified"] is False
        assert result.slots["selected_claims"] is None
        assert "475.68" not in result.text and "412.50" not in result.text
        assert {"event": "followup", "timestamp": None, "name": "verify_form"} in result.events
    else:
        assert "verified" not in result.slots
        assert "475.68" in result.text


async def test_a_detected_language_is_stored_for_the_gateway(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="hello there",
        intent="greet",
        entities=[{"entity": "language", "value": "en"}],
        slots={"language": "en", "disclosed": True},
    )
    result = await run(ActionGreet(), tracker, domain)
    assert result.texts[0] == "Thanks for getting in touch."
    [conversation] = rows(Conversation, sender_id=tracker.sender_id)
    assert conversation.language == "en"


async def test_a_conversation_held_by_a_human_gets_no_bot_turn(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="ich will nicht mehr leben",
        intent="ask_instalments",
        entities=[amount("50")],
        slots=verified_slots("260000117", handed_off=True),
    )
    result = await run(ActionOffer(), tracker, domain)
    assert result.events == [] and result.messages == []
    assert rows(Handoff) == []


# -- greeting, replies --------------------------------------------------------------------


async def test_greeting_a_verified_debtor_asks_how_to_help(domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="hallo", intent="greet", slots=verified_slots("260000117"))
    result = await run(ActionGreet(), tracker, domain)
    assert result.texts == ["Schön, dass Sie sich melden.", "Wie kann ich Ihnen helfen?"]
    assert "/pay_full" in [b["payload"] for b in result.buttons]


async def test_greeting_with_a_reference_prefills_the_form(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="Hallo, Aktenzeichen 260000117", intent="greet", slots={"disclosed": True}
    )
    result = await run(ActionGreet(), tracker, domain)
    assert result.slots == {"goal": None, "claim_reference": "260000117"}
    assert result.texts == ["Schön, dass Sie sich melden."]


async def test_privacy_answer_names_controller_and_url(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="datenschutz?", intent="ask_privacy", slots={"disclosed": True, "language": "en"}
    )
    result = await run(ActionReply(), tracker, domain)
    assert result.text.startswith("Quitt Inkasso GmbH processes your data")
    assert "https://quitt.example/datenschutz" in result.text


async def test_goodbye_inside_the_form_closes_it(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="tschüss",
        intent="goodbye",
        slots={"disclosed": True, "requested_slot": "claim_reference"},
        active_loop={"name": "verify_form"},
    )
    result = await run(ActionReply(), tracker, domain)
    assert result.texts[0].startswith("Auf Wiedersehen")
    assert {"event": "active_loop", "timestamp": None, "name": None} in result.events
    assert result.slots == {"requested_slot": None}


# -- choosing claims ----------------------------------------------------------------------


def choosing(text: str, entities: list[dict[str, Any]] | None = None) -> Any:
    return make_tracker(
        text=text,
        intent="inform",
        entities=entities or [],
        slots=verified_slots("260000158", selected=False, awaiting="choose_claim"),
    )


async def test_a_claim_is_chosen_by_its_number_in_the_list(domain: dict[str, Any]) -> None:
    result = await run(ActionHandleInform(), choosing("2"), domain)
    assert result.slots["selected_claims"] == ["260000166"]
    assert "Gesamtbetrag: 343,25 €" in result.text
    assert result.slots["awaiting"] is None


async def test_a_claim_is_chosen_by_its_button(domain: dict[str, Any]) -> None:
    button = [{"entity": "claim_choice", "value": "260000158"}]
    result = await run(ActionHandleInform(), choosing("/inform", button), domain)
    assert result.slots["selected_claims"] == ["260000158"]
    assert "Gesamtbetrag: 1.304,27 €" in result.text


@pytest.mark.parametrize(
    ("text", "choice"),
    [("3", None), ("0", None), ("egal", None), ("/inform", "260000117")],
)
async def test_a_choice_outside_the_debtors_claims_is_asked_again(
    domain: dict[str, Any], text: str, choice: str | None
) -> None:
    entities = [{"entity": "claim_choice", "value": choice}] if choice else []
    result = await run(ActionHandleInform(), choosing(text, entities), domain)
    assert result.texts == ["Bitte wählen Sie eine der Forderungen oder „Alle zusammen“."]
    assert result.events == []
    # Jana Becker's claim is never shown to Sabine Krüger.
    assert "Stromabrechnung" not in result.text and "475" not in result.text


async def test_all_claims_together(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="alle",
        intent="choose_all",
        slots=verified_slots("260000158", selected=False, awaiting="choose_claim"),
    )
    result = await run(ActionChooseAll(), tracker, domain)
    assert result.texts[0] == "Gut, es geht um 260000158, 260000166 mit zusammen 1.647,52 €."
    assert result.slots["selected_claims"] == ["260000158", "260000166"]


async def test_a_named_amount_after_an_offer_makes_a_new_plan(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="100",
        intent="inform",
        entities=[amount("100")],
        slots=verified_slots("260000117"),
    )
    result = await run(ActionHandleInform(), tracker, domain)
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan"
    assert len(pending["instalments"]) == 5
    assert result.slots["awaiting"] == "confirm_offer"


# -- handoffs -----------------------------------------------------------------------------


async def hand(domain: dict[str, Any], intent: str, text: str, **slots: Any) -> Result:
    tracker = make_tracker(text=text, intent=intent, slots={"disclosed": True, **slots})
    return await run(ActionHandoff(), tracker, domain)


def handoff_of(result: Result) -> Handoff:
    [handoff] = rows(Handoff, conversation_id=result.tracker.sender_id)
    return handoff


async def test_a_dispute_is_recorded_on_the_verified_claim(domain: dict[str, Any]) -> None:
    words = "Die Rechnung stimmt nicht, ich habe den Strom nie bezogen."
    result = await hand(domain, "dispute", words, **verified_slots("260000117"))
    assert result.texts == [
        "Danke, ich habe Ihren Einwand festgehalten. Solange er geprüft wird, fordern wir "
        "keine Zahlung. Eine Mitarbeiterin oder ein Mitarbeiter meldet sich bei Ihnen."
    ]
    assert result.slots == {
        "handed_off": True,
        "awaiting": None,
        "pending_offer": None,
        "reason_text": None,
    }
    [dispute] = rows(Dispute, conversation_id=result.tracker.sender_id)
    assert dispute.claim_reference == "260000117"
    assert dispute.reason_text == words
    assert dispute.status == "open"
    handoff = handoff_of(result)
    assert (handoff.reason, handoff.claim_reference, handoff.state) == (
        "dispute",
        "260000117",
        "queued",
    )
    [audit] = rows(AuditEvent, conversation_id=result.tracker.sender_id, kind="handoff")
    assert audit.reasons == ["dispute"]
    assert audit.data == {"handoff_id": handoff.id}


async def test_after_a_dispute_no_payment_is_asked(domain: dict[str, Any]) -> None:
    disputed = await hand(domain, "dispute", "stimmt nicht", **verified_slots("260000117"))
    tracker = make_tracker(
        text="ich zahle alles",
        intent="pay_full",
        slots=verified_slots("260000117"),
        sender_id="someone-else",
    )
    result = await run(ActionOffer(), tracker, domain)
    assert "wird derzeit geprüft" in result.text
    assert "pending_offer" not in result.slots
    assert disputed.slots["handed_off"] is True


async def test_an_unverified_dispute_records_no_claim(domain: dict[str, Any]) -> None:
    result = await hand(domain, "dispute", "Das ist Betrug, Aktenzeichen 260000117")
    assert rows(Dispute) == []
    handoff = handoff_of(result)
    assert handoff.reason == "dispute"
    assert handoff.claim_reference is None


@pytest.mark.parametrize(
    ("language", "text", "hotline"),
    [
        ("de", "Ich will nicht mehr leben", "0800 111 0 111"),
        ("en", "I just want to die", "988"),
        ("en", "I just want to die", "116 123"),
    ],
)
async def test_crisis_help_comes_first(
    domain: dict[str, Any], language: str, text: str, hotline: str
) -> None:
    result = await hand(domain, "crisis", text, language=language)
    assert len(result.messages) == 1
    assert hotline in result.texts[0]
    assert "112" in result.texts[0]
    assert "€" not in result.text
    assert handoff_of(result).reason == "crisis"
    assert handoff_of(result).language == language


async def test_crisis_help_in_the_very_first_turn(domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="Ich will nicht mehr leben", intent="crisis")
    result = await run(ActionHandoff(), tracker, domain)
    assert any("0800 111 0 111" in t for t in result.texts)
    assert any("automatisiert" in t for t in result.texts)


async def test_the_keyword_net_catches_a_crisis_the_classifier_missed(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="50 im Monat? Ich bringe mich um",
        intent="ask_instalments",
        entities=[amount("50")],
        slots=verified_slots("260000117", requested_slot="identity_proof"),
    )
    result = await run(ActionOffer(), tracker, domain)
    assert "0800 111 0 111" in result.texts[0]
    assert "pending_offer" in result.slots and result.slots["pending_offer"] is None
    assert result.slots["handed_off"] is True
    assert result.events[-1] == LISTEN
    assert {"event": "active_loop", "timestamp": None, "name": None} in result.events
    assert handoff_of(result).reason == "crisis"
    assert "475" not in result.text


async def test_a_request_for_a_person(domain: dict[str, Any]) -> None:
    result = await hand(domain, "human_request", "Ich möchte mit einem Menschen sprechen")
    assert result.texts[0].startswith("Gern. Ich übergebe")
    assert handoff_of(result).reason == "human_request"
    [conversation] = rows(Conversation, sender_id=result.tracker.sender_id)
    assert conversation.state == "queued"


async def test_a_second_handoff_reuses_the_active_one(domain: dict[str, Any]) -> None:
    first = await hand(domain, "human_request", "Mensch bitte")
    tracker = make_tracker(
        text="hallo?",
        intent="human_request",
        slots={"disclosed": True},
        sender_id=first.tracker.sender_id,
    )
    await run(ActionHandoff(), tracker, domain)
    assert len(rows(Handoff, conversation_id=first.tracker.sender_id)) == 1


# -- not understood -----------------------------------------------------------------------


def misunderstood(times: int, **slots: Any) -> Any:
    events: list[dict[str, Any]] = [user_event("hallo", "greet")]
    for n in range(times):
        events += [user_event(f"blabla {n}", "nlu_fallback"), {"event": "bot", "text": "?"}]
    events.pop()
    return make_tracker(
        text=f"blabla {times - 1}",
        intent="nlu_fallback",
        events=events,
        slots={"disclosed": True, **slots},
    )


async def test_the_first_misunderstanding_asks_again(domain: dict[str, Any]) -> None:
    result = await run(ActionFallback(), misunderstood(1), domain)
    assert result.texts == [
        "Entschuldigung, das habe ich nicht verstanden. Können Sie es bitte anders formulieren?"
    ]
    assert result.events == []


async def test_the_second_in_a_row_offers_a_person(domain: dict[str, Any]) -> None:
    result = await run(ActionFallback(), misunderstood(2, language="en"), domain)
    assert result.texts[0].startswith("I'm not understanding you well")
    assert [b["payload"] for b in result.buttons] == ["/affirm", "/deny"]
    assert result.slots == {"awaiting": "offer_agent", "agent_reason": "bot_failure"}
    assert rows(Handoff) == []


async def test_the_third_in_a_row_hands_over(domain: dict[str, Any]) -> None:
    result = await run(ActionFallback(), misunderstood(3), domain)
    assert result.slots["handed_off"] is True
    assert handoff_of(result).reason == "bot_failure"


async def test_not_understood_again_after_the_offer_hands_over(domain: dict[str, Any]) -> None:
    result = await run(ActionFallback(), misunderstood(2, awaiting="offer_agent"), domain)
    assert handoff_of(result).reason == "bot_failure"


async def test_an_understood_message_breaks_the_streak(domain: dict[str, Any]) -> None:
    tracker = misunderstood(1)
    tracker.events[:0] = [user_event("x", "nlu_fallback"), user_event("y", "nlu_fallback")]
    tracker.events.insert(2, user_event("ja", "affirm"))
    result = await run(ActionFallback(), tracker, domain)
    assert result.texts[0].startswith("Entschuldigung, das habe ich nicht verstanden")


async def test_clear_words_hand_over_even_when_the_classifier_was_unsure(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="ich bin in der Privatinsolvenz", intent="nlu_fallback", slots={"disclosed": True}
    )
    result = await run(ActionFallback(), tracker, domain)
    assert handoff_of(result).reason == "insolvency"


async def test_yes_to_the_offered_person_hands_over(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="ja",
        intent="affirm",
        slots={"disclosed": True, "awaiting": "offer_agent", "agent_reason": "bot_failure"},
    )
    result = await run(ActionAffirm(), tracker, domain)
    assert handoff_of(result).reason == "bot_failure"


async def test_explaining_needs_verification(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="was schulde ich für 260000117?", intent="ask_claim_details", slots={"disclosed": True}
    )
    result = await run(ActionExplainClaim(), tracker, domain)
    assert result.messages == []
    assert result.slots == {"goal": None, "claim_reference": "260000117"}


@pytest.mark.parametrize(
    "text", ["50 im Monat, sonst bringe ich mich um", "dann nehme ich mir das Leben"]
)
async def test_the_keyword_net_catches_inverted_german(domain: dict[str, Any], text: str) -> None:
    tracker = make_tracker(
        text=text,
        intent="ask_instalments",
        entities=[amount("50")],
        slots=verified_slots("260000117"),
    )
    result = await run(ActionOffer(), tracker, domain)
    assert "0800 111 0 111" in result.text
