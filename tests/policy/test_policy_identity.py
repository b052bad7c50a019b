"""Tests for policy.identity and policy.masking."""

from datetime import UTC, date, datetime, timedelta

import pytest

from policy.config import DEFAULT_POLICY as P
from policy.errors import InvalidRequest
from policy.identity import (
    IdentityProof,
    identity_matches,
    lock_until,
    mask_date_of_birth,
    mask_iban,
    mask_phone,
    parse_identity_proof,
    verification_decision,
)

DOB = date(1987, 3, 14)
TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    "text",
    [
        "14.03.1987",
        "14.3.1987",
        "1987-03-14",
        "14/03/1987",
        "03/14/1987",
        "14-03-1987",
        "14. März 1987",
        "14. märz 1987",
        "14 maerz 1987",
        "14 Marz 1987",
        "14. Mrz. 1987",
        "14 March 1987",
        "14th of March 1987",
        "March 14, 1987",
        "Mar 14 1987",
        "ich bin am 14.03.1987 geboren",
        "Geburtsdatum: 14. März 1987, PLZ 20249",
        "born on March 14th, 1987.",
    ],
)
def test_dates_of_birth_are_read(text: str) -> None:
    proof = parse_identity_proof(text)
    assert proof == IdentityProof(kind="date_of_birth", value=DOB)
    assert identity_matches(proof=proof, date_of_birth=DOB, postcode="20249")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14.3.87", date(1987, 3, 14)),
        ("1.1.05", date(2005, 1, 1)),
        ("31.12.26", date(1926, 12, 31)),  # 2026-12-31 is after today: a century earlier
        ("22.11.26", date(2026, 11, 22)),  # born today: age 0
        ("01.01.16", date(2016, 1, 1)),
        ("5 mai 60", date(1960, 5, 5)),
    ],
)
def test_two_digit_years_give_an_age_between_0_and_110(text: str, expected: date) -> None:
    proof = parse_identity_proof(text, today=TODAY)
    assert proof is not None and proof.century_guessed
    assert proof.value == expected
    age = TODAY.year - expected.year
    assert 0 <= age <= 110


def test_two_digit_years_match_whatever_the_guessed_century() -> None:
    proof = parse_identity_proof("14.3.87")  # no today: read as 19xx
    assert proof is not None
    assert identity_matches(proof=proof, date_of_birth=DOB, postcode="x")
    assert identity_matches(
        proof=parse_identity_proof("1.1.05") or proof,
        date_of_birth=date(2005, 1, 1),
        postcode="x",
    )
    assert not identity_matches(proof=proof, date_of_birth=date(1987, 3, 15), postcode="x")


@pytest.mark.parametrize(
    ("text", "postcode"),
    [
        ("20249", "20249"),
        ("meine PLZ ist 20249", "20249"),
        ("PLZ: 01067 Dresden", "01067"),
        ("Ich wohne in 80331 München.", "80331"),
        ("20249, Hamburg", "20249"),
    ],
)
def test_postcodes_are_read(text: str, postcode: str) -> None:
    proof = parse_identity_proof(text)
    assert proof == IdentityProof(kind="postcode", value=postcode)
    assert identity_matches(proof=proof, date_of_birth=DOB, postcode=f" {postcode} ")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hallo",
        "123456789",  # a 9+ digit number is not a postcode
        "0151 12345678",
        "+49 15112345",
        "1234",
        "123456",
        "00123",
        "Aktenzeichen QU-20249",
        "20249,50 Euro",
        "31.02.1987",  # no such day
        "14.13.1987",
        "I was born in 1987",
        "ich kann nur 50 zahlen",
    ],
)
def test_nothing_to_read(text: str) -> None:
    assert parse_identity_proof(text) is None


@pytest.mark.parametrize("text", ["14.03.2030", "14.03.1850", "14.03.1900"])
def test_impossible_birth_dates_are_refused_when_today_is_known(text: str) -> None:
    assert parse_identity_proof(text, today=TODAY) is None


@pytest.mark.parametrize(
    ("proof", "matches"),
    [
        (IdentityProof("date_of_birth", DOB), True),
        (IdentityProof("date_of_birth", date(1987, 3, 15)), False),
        (IdentityProof("date_of_birth", date(1978, 3, 14)), False),
        (IdentityProof("date_of_birth", "14.03.1987"), False),
        (IdentityProof("postcode", "20249"), True),
        (IdentityProof("postcode", "20250"), False),
        (IdentityProof("postcode", DOB), False),
    ],
)
def test_identity_matches(proof: IdentityProof, matches: bool) -> None:
    assert identity_matches(proof=proof, date_of_birth=DOB, postcode="20249") is matches


NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "locked_until", "allowed"),
    [
        (0, None, True),
        (1, None, True),
        (2, None, True),
        (3, None, False),
        (4, None, False),
        (0, NOW + timedelta(minutes=1), False),
        (0, NOW + timedelta(seconds=1), False),
        (0, NOW, True),  # the lock ends at locked_until
        (0, NOW - timedelta(minutes=1), True),
        (3, NOW - timedelta(minutes=1), False),  # counter not reset: lock again
    ],
)
def test_verification_lockout(failures: int, locked_until: datetime | None, allowed: bool) -> None:
    decision = verification_decision(
        failures=failures, policy=P, now=NOW, locked_until=locked_until
    )
    assert decision.allowed is allowed
    if allowed:
        assert decision.reasons == ("verification_allowed",)
        assert decision.handoff_reason is None
    else:
        assert decision.reasons == ("verification_locked",)
        assert decision.handoff_reason == "verification_locked"


def test_lock_lasts_thirty_minutes() -> None:
    assert lock_until(now=NOW, policy=P) == NOW + timedelta(minutes=30)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        verification_decision(failures=0, policy=P, now=datetime(2026, 1, 1), locked_until=None)
    with pytest.raises(InvalidRequest):
        lock_until(now=datetime(2026, 1, 1), policy=P)


@pytest.mark.parametrize(
    ("value", "masked"),
    [(DOB, "**.**.1987"), ("14.03.1987", "**.**.1987"), ("kaputt", "**.**.****")],
)
def test_mask_date_of_birth(value: date | str, masked: str) -> None:
    assert mask_date_of_birth(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+4915112345678", "+49******78"),
        ("+49 151 1234 5678", "+49******78"),
        ("whatsapp:+4915112345678", "whatsapp:+49******78"),
        ("12345", "******45"),
    ],
)
def test_mask_phone(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("DE89370400440532013000", "DE89********3000"),
        ("de89 3704 0044 0532 0130 00", "DE89********3000"),
        ("DE89", "********"),
    ],
)
def test_mask_iban(value: str, masked: str) -> None:
    assert mask_iban(value) == masked
