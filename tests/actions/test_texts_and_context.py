"""actions.texts (rendering domain responses) and actions.context (reading a turn)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.context import Turn, extract_reference, today
from actions.texts import say, text
from tests.actions.conftest import make_tracker, user_event

# -- actions.texts -----------------------------------------------------------------------


def test_german_is_the_default_variation(domain: dict[str, Any]) -> None:
    assert text(domain, "utter_greet", "de") == "Schön, dass Sie sich melden."


def test_english_comes_from_the_language_condition(domain: dict[str, Any]) -> None:
    assert text(domain, "utter_greet", "en") == "Thanks for getting in touch."


def test_an_unknown_language_falls_back_to_german(domain: dict[str, Any]) -> None:
    assert text(domain, "utter_greet", "fr") == "Schön, dass Sie sich melden."


def test_placeholders_are_filled(domain: dict[str, Any]) -> None:
    rendered = text(domain, "utter_verification_failed", "en", remaining=2)
    assert rendered == "Sorry, those details don't match. You have 2 attempt(s) left."


def test_missing_placeholders_stay_visible_instead_of_crashing(domain: dict[str, Any]) -> None:
    rendered = text(domain, "utter_claim_paid", "de")
    assert "{reference}" in rendered
    assert rendered.startswith("Gute Nachricht")
    partly = text(domain, "utter_selected_claims", "de", what="260000117")
    assert partly == "Gut, es geht um 260000117 mit zusammen {total}."


def test_an_unknown_response_is_a_key_error(domain: dict[str, Any]) -> None:
    with pytest.raises(KeyError, match="utter_does_not_exist"):
        text(domain, "utter_does_not_exist", "de")


def test_a_response_without_default_variation_is_a_key_error() -> None:
    only_english = {
        "responses": {
            "utter_x": [
                {"condition": [{"type": "slot", "name": "language", "value": "en"}], "text": "x"}
            ]
        }
    }
    assert text(only_english, "utter_x", "en") == "x"
    with pytest.raises(KeyError, match="no default variation"):
        text(only_english, "utter_x", "de")


def test_say_sends_the_responses_own_buttons_in_the_language(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    say(dispatcher, domain, "utter_confirm_offer", "en")
    [message] = dispatcher.messages
    assert message["text"] == "Shall I record this as agreed?"
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
    assert message["buttons"][0]["title"] == "Yes, record it"


def test_say_prefers_the_buttons_it_is_given(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    mine = [{"title": "A", "payload": "/a"}]
    say(dispatcher, domain, "utter_confirm_offer", "de", buttons=mine)
    assert dispatcher.messages[0]["buttons"] == mine
    assert dispatcher.messages[0]["text"] == "Soll ich das verbindlich so festhalten?"


def test_say_without_buttons_sends_none(domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    say(dispatcher, domain, "utter_greet", "de")
    assert dispatcher.messages[0]["buttons"] == []


def test_every_response_has_german_and_english(domain: dict[str, Any]) -> None:
    for key in domain["responses"]:
        german, english = text(domain, key, "de"), text(domain, key, "en")
        assert german and english, key
        assert german != english, f"{key} has no English variation"


# -- actions.context.extract_reference --------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("260000117", "260000117"),
        ("Aktenzeichen 260000117", "260000117"),
        ("my reference is 260000204, thanks", "260000204"),
        ("az 260000117", "260000117"),
        ("AZ-260000117", "AZ-260000117"),
        ("ref: inv/2026/0042", "INV/2026/0042"),
        ("260000117 und PLZ 20249", "260000117"),
        ("PLZ 20249 und 260000117", "260000117"),
        ("123456", "123456"),
    ],
)
def test_references_are_found(message: str, expected: str) -> None:
    assert extract_reference(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "",
        "hallo",
        "20249",
        "PLZ 20249",
        "meine Postleitzahl ist 22085",
        "14.03.1987",
        "geboren am 14.3.87",
        "475,68",
        "Ich zahle 1.234,56 €",
        "260.000.117",
        "Bestellung 88123-A",
        "12345678901234567890123",
    ],
)
def test_non_references_are_ignored(message: str) -> None:
    assert extract_reference(message) is None


def test_none_is_no_reference() -> None:
    assert extract_reference(None) is None  # type: ignore[arg-type]


def test_a_reference_at_the_end_of_a_sentence_is_found() -> None:
    assert extract_reference("Mein Aktenzeichen ist 260000117.") == "260000117"


@pytest.mark.parametrize("message", ["1987-03-14", "geboren 14/03/1987"])
def test_dates_with_dashes_or_slashes_are_not_references(message: str) -> None:
    assert extract_reference(message) is None


# -- actions.context.Turn ---------------------------------------------------------------


def _turn(domain: dict[str, Any], **kwargs: Any) -> Turn:
    return Turn.from_tracker(make_tracker(**kwargs), domain)


def test_turn_reads_language_from_slot_then_metadata_then_default(domain: dict[str, Any]) -> None:
    assert _turn(domain).language == "de"
    assert _turn(domain, metadata={"language": "en"}).language == "en"
    assert _turn(domain, slots={"language": "de"}, metadata={"language": "en"}).language == "de"
    assert _turn(domain, slots={"language": "fr"}).language == "de"


def test_turn_knows_a_detected_language_and_the_channel(domain: dict[str, Any]) -> None:
    turn = _turn(
        domain,
        entities=[{"entity": "language", "value": "en"}],
        metadata={"channel": "whatsapp"},
    )
    assert turn.language_detected and turn.channel == "whatsapp"
    plain_turn = _turn(domain)
    assert not plain_turn.language_detected and plain_turn.channel == "rest"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("50", Decimal("50")),
        ("47.5", Decimal("47.5")),
        ("0", None),
        ("-5", None),
        ("abc", None),
        ("NaN", None),
        ("Infinity", None),
        ("", None),
    ],
)
def test_turn_amount(domain: dict[str, Any], raw: str, expected: Decimal | None) -> None:
    turn = _turn(domain, entities=[{"entity": "amount", "value": raw}])
    assert turn.amount() == expected


def test_turn_date_accepts_only_iso_dates_from_today_on(domain: dict[str, Any]) -> None:
    future = today() + timedelta(days=3)
    past = today() - timedelta(days=1)

    def named(value: str) -> date | None:
        return _turn(domain, entities=[{"entity": "date", "value": value}]).date()

    assert named(future.isoformat()) == future
    assert named(today().isoformat()) == today()
    assert named(past.isoformat()) is None
    assert named("morgen") is None


def test_fallback_streak_counts_only_the_latest_run(domain: dict[str, Any]) -> None:
    events = [
        user_event("a", "nlu_fallback"),
        user_event("hallo", "greet"),
        {"event": "bot", "text": "?"},
        user_event("b", "nlu_fallback"),
        {"event": "action", "name": "action_fallback"},
        user_event("c", "nlu_fallback"),
    ]
    assert _turn(domain, events=events).fallback_streak == 2
    assert _turn(domain, events=[user_event("x", "greet")]).fallback_streak == 0
