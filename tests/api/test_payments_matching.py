"""Matching a remittance text to a claim, and spreading a payment over slots (pure)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from decimal import Decimal

import pytest

from domain.payments import matching
from domain.payments.allocation import Slot, allocate

D = Decimal
REFERENCES = ["260000117", "260000125", "260000133", "260000141", "AZ-7731-2026"]
INDEX = matching.ReferenceIndex(REFERENCES)


def nothing_expected(_reference: str) -> Collection[Decimal]:
    return ()


def match(
    text: str,
    amount: str = "10.00",
    expects: Callable[[str], Collection[Decimal]] = nothing_expected,
) -> matching.Match:
    return matching.decide(INDEX.candidates(text), D(amount), expects)


@pytest.mark.parametrize(
    ("text", "reference", "reason"),
    [
        ("260000117", "260000117", matching.EXACT),
        ("AZ 260 000 117 Rate 1", "260000117", matching.EXACT),
        ("Rechnung 26-0000-117, danke", "260000117", matching.EXACT),
        ("az-7731-2026 Meier", "AZ-7731-2026", matching.EXACT),
        ("Aktenzeichen 7731 2026", "AZ-7731-2026", matching.EXACT),  # prefix left out
        ("Rechnung 260001017", "260000117", matching.TYPO),  # two neighbours swapped
        ("Ref 26000133", "260000133", matching.TYPO),  # a digit left out
        ("Ref 2600001333", "260000133", matching.TYPO),  # a digit too many
    ],
)
def test_references_are_found_despite_spaces_separators_and_typos(
    text: str, reference: str, reason: str
) -> None:
    found = match(text)
    assert (found.reference, found.reason) == (reference, reason)


def test_a_typo_that_fits_several_claims_is_decided_by_the_amount() -> None:
    text = "Rechnung 260000145"  # one edit from 260000125 (2->4) and from 260000141 (5->1)
    assert match(text).reason == matching.AMBIGUOUS
    assert {"260000125", "260000141"} <= set(match(text).candidates)

    def expects(reference: str) -> Collection[Decimal]:
        return {D("54.92")} if reference == "260000125" else {D("295.84")}

    found = match(text, "54.92", expects)
    assert (found.reference, found.reason) == ("260000125", matching.TYPO_AND_AMOUNT)
    assert match(text, "12.00", expects).reference is None


def test_two_exact_references_need_a_shared_promise_or_the_amount() -> None:
    text = "260000117 und 260000125"
    assert match(text).reason == matching.AMBIGUOUS
    found = matching.decide(
        INDEX.candidates(text), D("1.00"), nothing_expected, lambda refs: refs[0]
    )
    assert (found.reference, found.reason) == ("260000117", matching.TOGETHER)
    found = match(text, "54.92", lambda r: {D("54.92")} if r == "260000125" else ())
    assert (found.reference, found.reason) == ("260000125", matching.EXACT_AND_AMOUNT)


@pytest.mark.parametrize(
    "text",
    ["Spende", "Miete Mai 2026", "Kundennummer 12345", "Zahlung laut Brief vom 2.5.", ""],
)
def test_texts_without_a_reference_stay_unmatched(text: str) -> None:
    found = match(text)
    assert (found.reference, found.reason) == (None, matching.NOT_FOUND)


def test_a_swap_that_makes_another_reference_is_ambiguous() -> None:
    # 260000171 swaps 260000117's last digits, and is one digit away from 260000141.
    assert {"260000117", "260000141"} <= set(match("Rechnung 260000171").candidates)
    assert match("Rechnung 260000171").reference is None


def test_a_far_number_is_no_candidate() -> None:
    assert INDEX.candidates("IBAN DE89370400440532013000 Rechnung 999999999") == []


def test_allocation_pays_slots_in_order_and_keeps_the_excess() -> None:
    slots = [
        Slot(("instalment", 1, 10), (("A", D("200.00")),)),
        Slot(("instalment", 1, 11), (("A", D("200.00")),)),
        Slot(("balance", None, None), (("A", D("475.68")),)),
    ]
    shares, left = allocate(D("450.00"), slots, {"A": D("475.68")})
    assert [(s.key[2], s.amount) for s in shares] == [
        (10, D("200.00")),
        (11, D("200.00")),
        (None, D("50.00")),
    ]
    assert left == 0
    shares, left = allocate(D("500.00"), slots, {"A": D("475.68")})
    assert sum(s.amount for s in shares) == D("475.68")
    assert left == D("24.32")


def test_a_short_payment_is_split_over_a_promise_s_parts_pro_rata() -> None:
    slot = Slot(("instalment", 1, 10), (("OLD", D("79.15")), ("NEW", D("20.85"))))
    shares, left = allocate(D("50.00"), [slot], {"OLD": D("1000"), "NEW": D("1000")})
    assert [(s.claim_reference, s.amount) for s in shares] == [
        ("OLD", D("39.58")),
        ("NEW", D("10.42")),
    ]
    assert left == 0


def test_no_claim_receives_more_than_it_owes() -> None:
    slot = Slot(("instalment", 1, 10), (("A", D("100.00")),))
    shares, left = allocate(D("100.00"), [slot], {"A": D("30.00")})
    assert [(s.claim_reference, s.amount) for s in shares] == [("A", D("30.00"))]
    assert left == D("70.00")
