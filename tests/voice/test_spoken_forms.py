"""Nothing written-only reaches `<Say>`: every bot response of the domain, rendered for a call.

Each response of bot/domain (every variation, German and English, with its buttons)
is filled with values as the actions format them and rendered by the voice line
(`speech_text.render`). What a caller hears must carry no format hints in brackets,
no raw links, no chat wording ("schreiben", "write", "chat", "reply here"), no emoji
or list markup, and the "not a person" notice only in the call's opening.
"""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.formatting import day, money, percent
from voice import speech_text

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "bot" / "domain"


def _responses() -> list[tuple[str, str, dict[str, Any]]]:
    """Return (response, language, variation) for every variation in the domain."""
    found = []
    for path in sorted(DOMAIN.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, variations in (data.get("responses") or {}).items():
            for variation in variations:
                conditions = variation.get("condition") or []
                language = next(
                    (str(c.get("value")) for c in conditions if c.get("name") == "language"),
                    "de",
                )
                found.append((key, language, variation))
    return found


RESPONSES = _responses()


def _values(language: str) -> dict[str, str]:
    """Placeholder values as the actions write them (money, dates, references, links)."""
    euros = lambda amount: money(Decimal(amount), language)  # noqa: E731
    when = lambda value: day(value, language)  # noqa: E731
    claim = "Stadtwerke Musterstadt"
    overview = "\n".join(
        f"{n}. {ref} – {claim}: Strom ({euros(total)})"
        for n, (ref, total) in enumerate((("260000117", "412.50"), ("260000133", "95.10")), 1)
    )
    return {
        # The income and outgoings check (actions/affordability.py).
        "affordable": euros("120.00"),
        "dependants": "ohne Unterhaltspflicht" if language == "de" else "no dependants",
        "energy": euros("90.00"),
        "food": euros("350.00"),
        "income": euros("1800.00"),
        "left": euros("310.00"),
        "other_debts": euros("0.00"),
        "outgoings": euros("1490.00"),
        "protected": euros("1555.00"),
        "rent": euros("900.00"),
        "table_date": "1.7.2025" if language == "de" else when(date(2025, 7, 1)),
        "transport": euros("150.00"),
        "amount": euros("412.50"),
        "balance": euros("300.00"),
        "bic": "COBADEFFXXX",
        "controller": "Quitt Inkasso GmbH",
        "count": "2",
        "creditor": claim,
        "deadline": when(date(2026, 12, 21)),
        "discount": percent(Decimal("0.10"), language),
        "due_date": when(date(2026, 12, 15)),
        "fees": euros("12.00"),
        "first": when(date(2027, 1, 15)),
        "floor": euros("25.00"),
        "iban": "DE89 3704 0044 0532 0130 00",
        "interest": euros("20.50"),
        "last": when(date(2027, 10, 15)),
        "last_amount": euros("37.50"),
        "lines": overview,
        "max_date": when(date(2027, 1, 6)),
        "max_discount": percent(Decimal("0.10"), language),
        "min_total": euros("100.00"),
        "n": "9",
        "number": "1",
        "paid": euros("112.50"),
        "payee": "Quitt Inkasso GmbH",
        "pdf_url": "https://quitt.example/a/abc123.pdf",
        "principal": euros("380.00"),
        "privacy_url": "https://quitt.example/datenschutz",
        "reference": "260000117",
        "references": "260000117, 260000133",
        "remaining": "1",
        "remittance": "260000117",
        "requested": euros("10.00"),
        "schedule": f"9 × {euros('47.56')}",
        "subject": "Stromrechnung März",
        "summary": f"{euros('412.50')} bis {when(date(2026, 12, 15))}",
        "total": euros("412.50"),
        "url": "https://quitt.example/a/abc123",
        "valid_until": when(date(2027, 1, 6)),
        "what": "260000117, 260000133",
    }


def _fill(template: str, language: str) -> str:
    values = _values(language)
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = names - values.keys()
    assert not missing, f"add sample values for {sorted(missing)} to this test"
    return template.format(**values)


# What a screen shows but a caller must never hear.
WRITTEN_ONLY = {
    "brackets": re.compile(r"[()\[\]]"),
    "format hint": re.compile(r"TT\.MM|JJJJ|DD\.MM|YYYY|z\. ?B\.|e\.g\.", re.IGNORECASE),
    "raw link": re.compile(r"https?:|://|www\.|\.example|/"),
    "emoji or markup": re.compile(r"[•*#_`~|<>▪◦·\u2600-\u27bf\U0001f000-\U0001faff]"),
    "list numbering": re.compile(r"(?:^|[.:!?]\s)\d+\.\s"),
    "digits of a date": re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}"),
    "euro sign": re.compile(r"€"),
}
CHAT_WORDING = {
    "de": re.compile(
        r"\bschreib(?:en|t|st)?\b|Schreiben Sie|\bchat|\bChat|hier eine Antwort|\blesen\b"
        r"|\bklicken|\bscannen|\bLink\b|\bQR|oben stehen"
    ),
    "en": re.compile(
        r"\bwrite\b|\bchat|\bChat|reply here|\bread that\b|\bclick|\bscan\b|\blink\b|\bQR"
        r"|\babove\b|\btype here\b",
        re.IGNORECASE,
    ),
}


@pytest.mark.parametrize(
    ("key", "language", "variation"),
    RESPONSES,
    ids=[f"{key}-{language}" for key, language, _ in RESPONSES],
)
def test_every_bot_response_sounds_like_a_call(
    key: str, language: str, variation: dict[str, Any]
) -> None:
    reply: dict[str, Any] = {
        "recipient_id": "voice:CA1",
        "text": _fill(variation["text"], language),
    }
    if variation.get("buttons"):
        reply["buttons"] = variation["buttons"]
    elif key == "utter_claims_overview":
        # actions/claims.py sends the overview with a button per claim and "all together".
        reply["buttons"] = [
            {"title": f"{n}. {ref}", "payload": f"/pick{n}"}
            for n, ref in enumerate(("260000117", "260000133"), 1)
        ] + [{"title": "Alle zusammen", "payload": "/choose_all"}]
    said = speech_text.render([reply], language).text
    for what, pattern in {**WRITTEN_ONLY, "chat wording": CHAT_WORDING[language]}.items():
        found = pattern.search(said)
        assert found is None, f"{key} ({language}) says {what} {found.group(0)!r}: {said}"


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_lines_own_texts_sound_like_a_call(language: str) -> None:
    for key, template in speech_text._texts()[language].items():
        said = speech_text.speak_text(
            template.format(
                controller="Quitt Inkasso GmbH",
                title="Ja",
                digit="1",
                question="",
                digits="",
                date="",
            ),
            language,
        )
        for what, pattern in {**WRITTEN_ONLY, "chat wording": CHAT_WORDING[language]}.items():
            assert pattern.search(said) is None, f"{key} ({language}): {what}: {said}"


NOT_A_PERSON = {
    "de": re.compile(r"nicht mit einem Menschen|kein Mensch|automatisiert", re.IGNORECASE),
    "en": re.compile(r"not (?:with )?a (?:person|human)|not chatting|automated", re.IGNORECASE),
}


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_not_a_person_notice_comes_once_per_call(language: str) -> None:
    opening = speech_text.text("greeting", language, controller="Quitt Inkasso GmbH")
    first_answer = [
        {"text": _fill(v["text"], language)}
        for key in ("utter_disclosure", "utter_greet", "utter_ask_claim_reference")
        for k, lang, v in RESPONSES
        if k == key and lang == language
    ]
    said = speech_text.render(first_answer, language).text
    assert NOT_A_PERSON[language].search(opening)
    assert NOT_A_PERSON[language].search(said) is None, said
    # The bot's greeting keeps what it says besides: the privacy note, said for the ear.
    assert ("Datenschutz" if language == "de" else "Privacy") in said
    assert ("Punkt" if language == "de" else " dot ") in said


def test_every_spoken_form_still_matches_a_response() -> None:
    texts = {
        language: [_fill(v["text"], language) for _, lang, v in RESPONSES if lang == language]
        for language in ("de", "en")
    }
    for language, rules in speech_text._spoken_forms().items():
        for written, _ in rules:
            assert any(written.search(t) for t in texts[language]), (
                f"spoken_forms.yml ({language}): {written.pattern!r} matches no response; "
                "the domain text changed: update or remove the rule"
            )


@pytest.mark.parametrize(
    ("written", "language", "said"),
    [
        (
            "Danke. Bitte bestätigen Sie noch Ihr Geburtsdatum (TT.MM.JJJJ) oder die Postleitzahl.",
            "de",
            "Danke. Bitte bestätigen Sie noch Ihr Geburtsdatum oder die Postleitzahl.",
        ),
        (
            "Of course. I'm passing you to a member of staff. "
            "You'll get a reply here as soon as someone is free.",
            "en",
            "Of course. I'm passing you to a member of staff.",
        ),
        ("1. Erste Zeile\n2. Zweite Zeile", "de", "Erste Zeile. Zweite Zeile."),
        (
            "IBAN: DE89 3704 0044 0532 0130 00\nBIC: COBADEFFXXX",
            "de",
            "IBAN: D E acht neun, drei sieben null vier, null null vier vier, null fünf drei "
            "zwei, null eins drei null, null null. BIC: C O B A, D E F F, X X X.",
        ),
        (
            "Mehr dazu: https://quitt.example/datenschutz.",
            "de",
            "Mehr dazu: quitt Punkt example Schrägstrich datenschutz.",
        ),
        (
            "More: https://quitt.example/privacy.",
            "en",
            "More: quitt dot example slash privacy.",
        ),
        (
            "Sie haben noch 1 Versuch(e). Bleibt sie offen (gerichtliches Mahnverfahren), "
            "kostet es.",
            "de",
            "Sie haben noch einen Versuch. Bleibt sie offen, gerichtliches Mahnverfahren, "
            "kostet es.",
        ),
    ],
)
def test_spoken_forms(written: str, language: str, said: str) -> None:
    assert speech_text.speak_text(written, language) == said


def test_a_numbered_list_of_the_buttons_is_said_once_with_its_keys() -> None:
    values = _values("de")
    reply = {
        "text": f"Zu Ihnen sind 2 Forderungen gespeichert:\n{values['lines']}\n"
        "Für welche möchten Sie eine Lösung finden – eine davon oder alle zusammen?",
        "buttons": [
            {"title": "1. 260000117 (412,50 €)", "payload": "/a"},
            {"title": "2. 260000133 (95,10 €)", "payload": "/b"},
            {"title": "Alle zusammen", "payload": "/choose_all"},
        ],
    }
    spoken = speech_text.render([reply], "de")
    assert spoken.text == (
        "Zu Ihnen sind 2 Forderungen gespeichert: Für welche möchten Sie eine Lösung finden, "
        "eine davon oder alle zusammen? "
        "Für zwei sechs null null null null eins eins sieben, Stadtwerke Musterstadt: Strom, "
        "vierhundertzwölf Euro fünfzig drücken Sie die 1. "
        "Für zwei sechs null null null null eins drei drei, Stadtwerke Musterstadt: Strom, "
        "fünfundneunzig Euro zehn drücken Sie die 2. "
        "Sagen Sie Alle zusammen oder drücken Sie 3."
    )
    assert [spoken.payload_for(d) for d in "123"] == ["/a", "/b", "/choose_all"]


def test_a_date_of_birth_is_asked_for_on_the_keypad_with_its_format() -> None:
    replies = [{"text": "Danke. Bitte bestätigen Sie noch Ihr Geburtsdatum (TT.MM.JJJJ)."}]
    assert speech_text.asks_for_number(replies, "de")
    prompt = speech_text.keypad_prompt(replies, "de")
    assert "acht Ziffern für Tag, Monat und Jahr" in prompt
    assert speech_text.keypad_prompt([{"text": "Wie lautet Ihr Aktenzeichen?"}], "de") == (
        speech_text.text("keypad_prompt", "de")
    )
