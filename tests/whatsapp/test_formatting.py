"""Numbered options, message splitting and keywords (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from api.channels.whatsapp.formatting import (
    MAX_BODY_CHARS,
    keyword,
    render,
    resolve_choice,
    split_text,
)

PAYMENT_WAYS: dict[str, Any] = {
    "text": "Wie möchten Sie zahlen?",
    "buttons": [
        {"title": "Alles auf einmal", "payload": "/pay_full"},
        {"title": "In Raten", "payload": "/ask_instalments"},
        {"title": "Mit einem Mitarbeiter sprechen", "payload": "/human_request"},
    ],
}


def test_buttons_become_numbered_options_without_payloads() -> None:
    bodies, options = render([{"text": "Danke."}, PAYMENT_WAYS], "de")
    assert bodies == [
        "Danke.",
        "Wie möchten Sie zahlen?\n\n1 – Alles auf einmal\n2 – In Raten\n"
        "3 – Mit einem Mitarbeiter sprechen\n\nAntworten Sie mit der Nummer.",
    ]
    assert "/" not in "".join(bodies)
    assert options == [
        {"title": b["title"], "payload": b["payload"]} for b in PAYMENT_WAYS["buttons"]
    ]


def test_the_reply_line_follows_the_conversation_language() -> None:
    bodies, _ = render(
        [
            {
                "text": "How would you like to pay?",
                "buttons": [{"title": "Pay in full", "payload": "/pay_full"}],
            }
        ],
        "en",
    )
    assert bodies == ["How would you like to pay?\n\n1 – Pay in full\n\nReply with the number."]


def test_titles_that_carry_a_number_are_not_numbered_twice() -> None:
    _, options = render(
        [
            {
                "text": "Welche?",
                "buttons": [
                    {
                        "title": "1. 260000117 (475,68 €)",
                        "payload": '/inform{"claim_choice":"260000117"}',
                    },
                    {"title": "Alle", "payload": "/choose_all"},
                ],
            }
        ],
        "de",
    )
    assert options is not None and options[0]["title"] == "260000117 (475,68 €)"


def test_without_buttons_there_are_no_options() -> None:
    assert render([{"text": "Hallo"}], "de") == (["Hallo"], None)
    assert render([], "de") == ([], None)


@pytest.mark.parametrize(
    ("answer", "payload"),
    [
        ("1", "/pay_full"),
        (" 2 ", "/ask_instalments"),
        ("3.", "/human_request"),
        ("2)", "/ask_instalments"),
        ("4", None),
        ("0", None),
        ("1 Monat", None),
        ("zwei", None),
    ],
)
def test_a_number_maps_back_to_its_payload(answer: str, payload: str | None) -> None:
    _, options = render([PAYMENT_WAYS], "de")
    assert resolve_choice(answer, options) == payload


def test_a_number_means_nothing_without_options() -> None:
    assert resolve_choice("1", None) is None


def test_short_texts_stay_whole() -> None:
    assert split_text("Hallo") == ["Hallo"]
    assert split_text("   ") == []


def test_long_texts_split_on_paragraphs_then_sentences() -> None:
    paragraph = " ".join(f"Satz Nummer {i} erklärt etwas." for i in range(60))
    text = f"{paragraph}\n\n{paragraph}"
    parts = split_text(text)
    assert len(parts) >= 2
    assert all(len(p) <= MAX_BODY_CHARS for p in parts)
    assert all(p.endswith(".") for p in parts)  # never mid-sentence
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_an_unbroken_word_longer_than_the_limit_is_cut() -> None:
    parts = split_text("x" * 3500)
    assert [len(p) for p in parts] == [1600, 1600, 300]


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("STOP", "opt_out"),
        ("stopp", "opt_out"),
        ("Abmelden", "opt_out"),
        ("UNSUBSCRIBE", "opt_out"),
        ("stop!", "opt_out"),
        ("START", "opt_in"),
        ("stop the calls", None),
        ("Bitte abmelden", None),
        ("", None),
    ],
)
def test_opt_keywords_count_only_alone(body: str, word: str | None) -> None:
    assert keyword(body) == word
