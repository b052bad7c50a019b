"""Bank details as SEPA credit transfers need them: IBAN (ISO 13616) and BIC (ISO 9362).

Pure checks, used where bank details come in (the claims file's creditors, the
agency's account in the settings) so that no debtor is ever given an account
number with a typo in it. An IBAN is checked by its length for its country and
by its check digits (ISO 7064 mod 97-10: the rearranged number, letters as
10..35, leaves 1); a BIC by its shape (4 letters bank, 2 letters country,
2 letters or digits location, optionally 3 for the branch). Errors never echo a
whole IBAN: they show it masked.
"""

from __future__ import annotations

import re
from typing import Final

from policy.masking import mask_iban

# IBAN lengths of the SEPA countries and a few more (SWIFT's IBAN registry).
IBAN_LENGTHS: Final = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18,
    "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "RS": 22, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
    "VA": 22,
}  # fmt: skip
_IBAN_SHAPE: Final = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_BIC_SHAPE: Final = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_SPACES: Final = re.compile(r"[\s\u00a0]+")


class BankDetailsError(ValueError):
    """An IBAN or BIC that cannot be right; the message says why (IBAN masked)."""


def compact(value: str) -> str:
    """Write an IBAN or BIC as stored: no spaces, upper case."""
    return _SPACES.sub("", value).upper()


def iban_checksum_ok(iban: str) -> bool:
    """Tell whether a compact IBAN's check digits agree (ISO 7064 mod 97-10)."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def parse_iban(value: str) -> str:
    """Return the IBAN compact and upper case, or raise saying what is wrong with it."""
    iban = compact(value)
    if not _IBAN_SHAPE.fullmatch(iban):
        raise BankDetailsError(
            "not an IBAN (2 letters for the country, 2 check digits, then 11 to 30 letters "
            f"or digits): {mask_iban(iban)}"
        )
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        raise BankDetailsError(
            f"an IBAN of {iban[:2]} has {expected} characters, this one {len(iban)}: "
            f"{mask_iban(iban)}"
        )
    if not iban_checksum_ok(iban):
        raise BankDetailsError(f"the IBAN's check digits do not match (a typo?): {mask_iban(iban)}")
    return iban


def parse_bic(value: str) -> str:
    """Return the BIC compact and upper case, or raise saying what is wrong with it."""
    bic = compact(value)
    if not _BIC_SHAPE.fullmatch(bic):
        raise BankDetailsError(
            "not a BIC (8 or 11 characters: 4 letters bank, 2 letters country, "
            f"2 letters or digits location, optionally 3 for the branch): {bic!r}"
        )
    return bic


def grouped(iban: str) -> str:
    """Write an IBAN in groups of four, as it is printed: "DE89 3704 0044 0532 0130 00"."""
    plain = compact(iban)
    return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))
