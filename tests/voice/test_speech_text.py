"""Bot turns rendered for the ear, in German and English (pure functions, tables)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from voice import speech_text
from voice.heard import tidy_transcript
from voice.speech_text import (
    confirm_keypad,
    parse_keypad,
    render,
    speak_amount,
    speak_date,
    speak_digits,
    speak_text,
)


@pytest.mark.parametrize(
    ("amount", "language", "said"),
    [
        ("412.50", "de", "vierhundertzwölf Euro fünfzig"),
        ("1.00", "de", "ein Euro"),
        ("21.01", "de", "einundzwanzig Euro eins"),
        ("0.50", "de", "fünfzig Cent"),
        ("1647.52", "de", "eintausendsechshundertsiebenundvierzig Euro zweiundfünfzig"),
        ("412.50", "en", "four hundred twelve euros and fifty cents"),
        ("1.01", "en", "one euro and one cent"),
        ("25", "en", "twenty-five euros"),
        ("0.99", "en", "ninety-nine cents"),
    ],
)
def test_amounts_are_spoken(amount: str, language: str, said: str) -> None:
    assert speak_amount(Decimal(amount), language) == said


@pytest.mark.parametrize(
    ("value", "language", "said"),
    [
        (date(2026, 12, 15), "de", "fünfzehnten Dezember zweitausendsechsundzwanzig"),
        (date(1987, 3, 14), "de", "vierzehnten März neunzehnhundertsiebenundachtzig"),
        (date(2026, 12, 1), "en", "the first of December twenty twenty-six"),
        (date(2027, 5, 7), "en", "the seventh of May twenty twenty-seven"),
    ],
)
def test_dates_are_spoken(value: date, language: str, said: str) -> None:
    assert speak_date(value, language) == said


@pytest.mark.parametrize(
    ("written", "language", "said"),
    [
        (
            "Gesamtbetrag: 475,68 €, fällig am 30.04.2026.",
            "de",
            "Gesamtbetrag: vierhundertfünfundsiebzig Euro achtundsechzig, "
            "fällig am dreißigsten April zweitausendsechsundzwanzig.",
        ),
        (
            "Sie zahlen 1.304,27 € statt 1.450,00 €.",
            "de",
            "Sie zahlen eintausenddreihundertvier Euro siebenundzwanzig statt "
            "eintausendvierhundertfünfzig Euro.",
        ),
        (
            "Aktenzeichen 260000117, bitte als Verwendungszweck.",
            "de",
            "Aktenzeichen zwei sechs null null null null eins eins sieben, "
            "bitte als Verwendungszweck.",
        ),
        (
            "9 × 47,56 € – 5 %",
            "de",
            "9 mal siebenundvierzig Euro sechsundfünfzig, 5 Prozent.",
        ),
        (
            "Telefonseelsorge 0800 111 0 111 🙏",
            "de",
            "Telefonseelsorge null acht null null eins eins eins null eins eins eins.",
        ),
        (
            "You pay €266.26 instead of €295.84 by 7 December 2026.",
            "en",
            "You pay two hundred sixty-six euros and twenty-six cents instead of two hundred "
            "ninety-five euros and eighty-four cents by the seventh of December twenty twenty-six.",
        ),
        (
            "**Thank you!** ✅\n• Principal: €249.99",
            "en",
            "Thank you! Principal: two hundred forty-nine euros and ninety-nine cents.",
        ),
        (
            "Mehr unter https://quitt.example/datenschutz.",
            "de",
            "Mehr unter quitt Punkt example Schrägstrich datenschutz.",
        ),
    ],
)
def test_texts_are_rendered_for_the_ear(written: str, language: str, said: str) -> None:
    assert speak_text(written, language) == said


def test_buttons_become_say_or_press_and_keys_map_back() -> None:
    replies = [
        {"recipient_id": "x", "text": "Soll ich das verbindlich so festhalten?"},
        {
            "recipient_id": "x",
            "text": "",
            "buttons": [
                {"title": "Ja, festhalten", "payload": "/affirm"},
                {"title": "Nein", "payload": "/deny"},
            ],
        },
    ]
    spoken = render(replies, "de")
    assert spoken.text == (
        "Soll ich das verbindlich so festhalten? Sagen Sie Ja, festhalten oder drücken Sie 1. "
        "Sagen Sie Nein oder drücken Sie 2."
    )
    assert "/affirm" not in spoken.text
    assert (spoken.payload_for("1"), spoken.payload_for("2"), spoken.payload_for("3")) == (
        "/affirm",
        "/deny",
        None,
    )
    english = render(
        [{"text": "Record it?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}], "en"
    )
    assert english.text == "Record it? Say Yes or press 1."


def test_option_titles_lose_their_own_numbers_and_payload_texts_are_never_said() -> None:
    spoken = render(
        [
            {"text": "/affirm"},
            {"custom": {"handoff": True}},
            {
                "text": "Welche Forderung?",
                "buttons": [{"title": "1. 260000158 (1.304,27 €)", "payload": "/choose"}],
            },
        ],
        "de",
    )
    assert spoken.text == (
        "Welche Forderung? Sagen Sie zwei sechs null null null null eins fünf acht, "
        "eintausenddreihundertvier Euro siebenundzwanzig oder drücken Sie 1."
    )


@pytest.mark.parametrize(
    ("digits", "parsed"),
    [
        ("14031987", ("date", "14.03.1987")),
        ("31022000", ("number", "31022000")),  # no 31 February: a number
        ("260000117", ("number", "260000117")),
        ("20249", ("number", "20249")),
        ("50", ("number", "50")),
    ],
)
def test_keypad_input_reads_as_typed_text(digits: str, parsed: tuple[str, str]) -> None:
    assert parse_keypad(digits) == parsed


@pytest.mark.parametrize(
    ("kind", "value", "language", "said"),
    [
        (
            "number",
            "260000117",
            "de",
            "Ich habe zwei sechs null null null null eins eins sieben verstanden.",
        ),
        ("number", "50", "de", "Ich habe fünfzig verstanden."),
        (
            "date",
            "14.03.1987",
            "de",
            "Ich habe den vierzehnten März neunzehnhundertsiebenundachtzig verstanden.",
        ),
        ("number", "20249", "en", "I heard two zero two four nine."),
        ("date", "09.04.1984", "en", "I heard the ninth of April nineteen eighty-four."),
    ],
)
def test_keypad_input_is_confirmed_back(kind: str, value: str, language: str, said: str) -> None:
    assert confirm_keypad(kind, value, language) == said


def test_every_voice_text_exists_in_both_languages() -> None:
    assert speech_text._texts()["de"].keys() == speech_text._texts()["en"].keys()
    assert speak_digits("0123", "en") == "zero one two three"


@pytest.mark.parametrize(
    ("heard", "tidy"),
    [
        ("2 6 0 0 0 0 1 1 7", "260000117"),
        ("Mein Aktenzeichen ist 2-6-0-0-0-0-1-2-5.", "Mein Aktenzeichen ist 260000125."),
        ("260 000 117", "260000117"),
        ("2, 6, 0, 0, 0, 0, 1, 4, 1", "260000141"),
        ("Ich zahle 50, 100 wäre zu viel", "Ich zahle 50, 100 wäre zu viel"),
        ("Ich zahle 1, 2, 3 Raten", "Ich zahle 1, 2, 3 Raten"),  # too short for a number
        ("  I can pay   50 euros ", "I can pay 50 euros"),
    ],
)
def test_digits_said_one_by_one_become_one_number(heard: str, tidy: str) -> None:
    assert tidy_transcript(heard) == tidy


@pytest.mark.parametrize(
    ("text", "language", "asks"),
    [
        ("Wie lautet Ihr Aktenzeichen? Sie finden es oben in unserem Schreiben.", "de", True),
        (
            "Bitte bestätigen Sie noch Ihr Geburtsdatum (TT.MM.JJJJ) oder die Postleitzahl.",
            "de",
            True,
        ),
        ("Wie möchten Sie die Forderung begleichen?", "de", False),
        ("What is your claim reference? You'll find it at the top of our letter.", "en", True),
        ("Please confirm your date of birth (DD.MM.YYYY) or the postcode.", "en", True),
        ("Please quote the reference 260000141 with your transfer.", "en", False),
    ],
)
def test_questions_for_numbers_are_recognised(text: str, language: str, asks: bool) -> None:
    assert speech_text.asks_for_number([{"text": "Danke."}, {"text": text}], language) is asks
