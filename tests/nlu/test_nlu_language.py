"""Table-driven tests of language detection (nlu.language)."""

from __future__ import annotations

import dataclasses

import pytest

from nlu.language import LanguageGuess, detect_language

# The confidence the Rasa LanguageIdentifier requires by default.
CONFIDENT = 0.7

# (text, expected language): "de"/"en" must come out confident, None means no evidence.
CASES: list[tuple[str, str | None]] = [
    # short German replies
    ("ja", "de"),
    ("Ja!", "de"),
    ("jo", "de"),
    ("nein", "de"),
    ("Nein danke", "de"),
    ("hallo", "de"),
    ("Moin", "de"),
    ("danke", "de"),
    ("Servus", "de"),
    ("n abend", "de"),
    ("Tach", "de"),
    ("moin moin", "de"),
    ("genau", "de"),
    ("ja ok", "de"),
    ("Ich", "de"),
    ("nicht jetzt", "de"),
    ("Müller", "de"),
    ("fünfzig", "de"),
    ("übermorgen", "de"),
    ("nächsten Freitag", "de"),
    # short English replies
    ("yes", "en"),
    ("Yeah", "en"),
    ("no", "en"),
    ("nope", "en"),
    ("good evening", "en"),
    ("Good morning!", "en"),
    ("evening", "en"),
    ("Hello!", "en"),
    ("thanks", "en"),
    ("sure", "en"),
    ("yes please", "en"),
    ("fifty", "en"),
    ("no thanks", "en"),
    # sentences
    ("Ich kann höchstens 50 € im Monat, ab nächsten Freitag", "de"),
    ("Guten Tag, ich habe einen Brief von Ihnen bekommen", "de"),
    ("Das ist nicht meine Rechnung", "de"),
    ("Ich kann diesen Monat nur 50 Euro zahlen.", "de"),
    ("Warum soll ich das bezahlen", "de"),
    ("ich hab grad kein geld", "de"),
    ("can I pay 30 a month?", "en"),
    ("I cannot pay this month", "en"),
    ("Hello, I got a letter from you about a debt", "en"),
    ("This is not my bill", "en"),
    ("I lost my job and can't afford it", "en"),
    ("When is the next payment due?", "en"),
    # no evidence
    ("ok", None),
    ("OK", None),
    ("okay", None),
    ("1", None),
    ("2", None),
    ("20249", None),
    ("15.12.", None),
    ("15.12.2026", None),
    ("👍", None),
    ("Ok 👍", None),
    ("50 €", None),
    ("?", None),
    ("", None),
    ("   ", None),
    ("hmm", None),
    # Germans greet with "hi" and "hey" as well: no evidence either way.
    ("hi", None),
    ("Hey", None),
    ("hi 👋", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_detect_language(text: str, expected: str | None) -> None:
    """Clear texts are detected confidently; texts without evidence give None."""
    guess = detect_language(text)
    assert guess.language == expected
    if expected is None:
        assert guess.confidence == 0.0
    else:
        assert guess.confidence >= CONFIDENT


def test_case_table_is_large_enough() -> None:
    """The table covers at least 40 texts."""
    assert len(CASES) >= 40


@pytest.mark.parametrize("text", ["Max Mustermann", "Hamburg", "PayPal", "yes bitte", "ja please"])
def test_unclear_short_texts_are_not_confident(text: str) -> None:
    """Names and mixed replies stay below the bar, so a language slot keeps its value."""
    assert detect_language(text).confidence < CONFIDENT


def test_guess_is_frozen() -> None:
    """A guess is an immutable value."""
    guess = detect_language("ja")
    assert guess == LanguageGuess("de", guess.confidence)
    with pytest.raises(dataclasses.FrozenInstanceError):
        guess.language = "en"  # type: ignore[misc]
