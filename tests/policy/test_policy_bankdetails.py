"""IBAN (length, mod-97 check digits) and BIC (shape) as bank details come in."""

from __future__ import annotations

import pytest

from policy.bankdetails import BankDetailsError, grouped, iban_checksum_ok, parse_bic, parse_iban


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("DE02\u00a01203 0000 0000 2020 51", "DE02120300000000202051"),
        ("AT611904300234573201", "AT611904300234573201"),
        ("FR1420041010050500013M02606", "FR1420041010050500013M02606"),
        ("GB29NWBK60161331926819", "GB29NWBK60161331926819"),
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("CH9300762011623852957", "CH9300762011623852957"),
    ],
)
def test_valid_ibans_are_stored_compact(given: str, stored: str) -> None:
    assert parse_iban(given) == stored
    assert iban_checksum_ok(stored)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("DE89370400440532013001", "check digits do not match"),  # last digit wrong
        ("DE98370400440532013000", "check digits do not match"),  # check digits swapped
        ("DE8937040044053201300", "an IBAN of DE has 22 characters, this one 21"),
        ("DE893704004405320130000", "an IBAN of DE has 22 characters, this one 23"),
        ("89370400440532013000", "not an IBAN"),
        ("DE89-3704-0044", "not an IBAN"),
        ("", "not an IBAN"),
    ],
)
def test_wrong_ibans_are_refused_saying_why(given: str, why: str) -> None:
    with pytest.raises(BankDetailsError, match=why) as caught:
        parse_iban(given)
    # The message never repeats a whole account number.
    assert "0532013" not in str(caught.value)


@pytest.mark.parametrize(
    ("given", "ok"),
    [
        ("COBADEFFXXX", "COBADEFFXXX"),
        ("cobadeff", "COBADEFF"),
        ("BYLA DEM1 001", "BYLADEM1001"),
        ("DEUTDEDB", "DEUTDEDB"),
        ("COBADEF", None),  # 7 characters
        ("COBADEFFXX", None),  # 10 characters
        ("C0BADEFF", None),  # a digit in the bank code
        ("COBA1EFF", None),  # a digit in the country
    ],
)
def test_bics_have_eight_or_eleven_characters_of_the_right_kinds(
    given: str, ok: str | None
) -> None:
    if ok is None:
        with pytest.raises(BankDetailsError, match="not a BIC"):
            parse_bic(given)
    else:
        assert parse_bic(given) == ok


def test_an_iban_is_printed_in_groups_of_four() -> None:
    assert grouped("DE89370400440532013000") == "DE89 3704 0044 0532 0130 00"
    assert grouped("NL91ABNA0417164300") == "NL91 ABNA 0417 1643 00"
