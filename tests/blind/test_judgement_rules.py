"""The judging rules of bench/judgement.py, without a stack."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench import judgement


@pytest.fixture(scope="module")
def clones() -> dict[str, judgement.Clone]:
    """Return clones of two personas."""
    _, found = judgement.build_clones(
        [("x-1", "thomas"), ("x-2", "sabine")], demo=judgement.load_demo(), first_reference=1
    )
    return found


def test_splits_are_fixed_and_about_half() -> None:
    messages = judgement.load_messages()
    assert judgement.split_of("dea-001") == judgement.split_of("dea-001")
    dev = sum(m.split == "dev" for m in messages)
    assert 0.4 < dev / len(messages) < 0.6


def test_every_item_is_well_formed() -> None:
    intents = judgement.domain_intents()
    assert "greet" in intents and "affirm" in intents
    for conversation in judgement.load_conversations():
        clone_turns = " ".join(conversation.turns)
        # A debtor with two claims may verify with the second one ({ref2}).
        assert "{ref}" in clone_turns or "{ref2}" in clone_turns, conversation.id


def test_clones_keep_the_claim_and_change_reference_and_name() -> None:
    document, found = judgement.build_clones(
        [("a", "sabine"), ("b", "sabine")], demo=judgement.load_demo()
    )
    references = [c["reference"] for c in document["claims"]]
    assert len(set(references)) == 4 and all(r.startswith("7") and len(r) == 9 for r in references)
    assert found["a"].debtor_name != found["b"].debtor_name
    assert [c.total for c in found["a"].claims] == [Decimal("1304.27"), Decimal("343.25")]
    assert found["a"].fill("{ref} {ref2} {dob} {dob_en} {postcode}") == (
        f"{references[0]} {references[1]} 05.12.1962 05/12/1962 22085"
    )


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Ihre Forderung über 4.800,00 € bei FitLine", True),
        ("You owe €4,800.00", True),
        ("Summe 4800 EUR", True),
        ("Wie lautet Ihr Aktenzeichen? 48000 ist keins.", False),
        ("Bitte nennen Sie Ihr Geburtsdatum.", False),
        ("Mitgliedsbeiträge Oktober 2025–März 2026", True),
    ],
)
def test_leaks_are_found(clones: dict[str, judgement.Clone], text: str, leaked: bool) -> None:
    assert bool(clones["x-1"].leaks(text)) is leaked


def test_promises_are_merged_over_claims() -> None:
    part = {"kind": "instalment_plan", "status": "pending"}
    claims = [
        {
            "reference": "1",
            "promises": [
                {
                    **part,
                    "id": 7,
                    "amount": "100.00",
                    "instalments": [
                        {"amount": "40.00", "due_date": "2026-01-01"},
                        {"amount": "40.00", "due_date": "2026-02-01"},
                        {"amount": "20.00", "due_date": "2026-03-01"},
                    ],
                },
            ],
        },
        {
            "reference": "2",
            "promises": [
                {
                    **part,
                    "id": 7,
                    "amount": "20.00",
                    "instalments": [
                        {"amount": "10.00", "due_date": "2026-01-01"},
                        {"amount": "10.00", "due_date": "2026-02-01"},
                    ],
                },
            ],
        },
    ]
    [promise] = judgement.merge_promises(claims)
    assert promise["claims"] == ["1", "2"] and promise["amount"] == Decimal("120.00")
    assert judgement.regular_instalment(promise["instalments"]) == Decimal("50.00")
    expect = {"outcome": "promise", "kind": "instalment_plan", "instalment": "50.00"}
    assert judgement.outcome_problem(expect, [promise], []) is None
    assert judgement.outcome_problem({**expect, "claims": 1}, [promise], []) is not None
    assert judgement.outcome_problem(expect, [promise], ["negative_sentiment"]) is not None
    assert judgement.outcome_problem({"outcome": "handoff", "reason": "dispute"}, [], []) == (
        "no handoff"
    )
    assert judgement.outcome_problem({"outcome": "none"}, [], []) is None


def test_the_proof_turn_is_the_first_with_a_birth_date_or_postcode() -> None:
    assert judgement.proof_turn(["hi", "{ref}", "plz {postcode}", "{dob}"]) == 2
    assert judgement.proof_turn(["hi", "{ref}"]) == 2


def test_help_lines() -> None:
    assert judgement.has_help_line(["Telefonseelsorge: 0800\u00a0111\u00a00\u00a0111"], "de")
    assert judgement.has_help_line(["Call Samaritans on 116 123"], "en")
    assert not judgement.has_help_line(["Bitte wenden Sie sich an uns."], "de")


def test_a_finer_privacy_intent_counts_as_the_authors_label() -> None:
    from bench.judgement import intent_right

    assert intent_right("privacy_request", "ask_privacy")
    assert intent_right("ask_privacy", "ask_privacy")
    assert not intent_right("ask_privacy", "privacy_request")
    assert not intent_right("dispute", "ask_privacy")
