"""The `quitt-claims/1` file format and the claim API answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from domain.db.schemas import ORMModel
from policy.bankdetails import parse_bic, parse_iban

FORMAT = "quitt-claims/1"
MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
CENT = Decimal("0.01")

_AMOUNT = re.compile(r"-?\d+(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_amount(value: Any) -> Decimal:
    """Parse a decimal string with at most two places, never negative."""
    if not isinstance(value, str):
        raise ValueError(f"amounts are decimal strings, got {value!r}")
    return _amount(value)


@lru_cache(maxsize=1 << 12)
def _amount(value: str) -> Decimal:
    """Parse an amount string (cached: claims files repeat their fees and interest)."""
    text = value.strip()
    if not _AMOUNT.fullmatch(text):
        raise ValueError(f"not a decimal amount: {value!r}")
    if len(text.partition(".")[2]) > 2:
        raise ValueError(f"more than 2 decimal places: {value!r}")
    amount = Decimal(text)
    if amount < 0:
        raise ValueError(f"must not be negative: {value!r}")
    if amount > MAX_AMOUNT:
        raise ValueError(f"too large: {value!r}")
    return amount.quantize(CENT)


def parse_iso_date(value: Any) -> date:
    """Parse an ISO date `YYYY-MM-DD`."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a valid date: {value!r}") from None


def parse_birth_date(value: Any) -> date:
    """Parse a date of birth without ever echoing it in an error (privacy)."""
    try:
        return parse_iso_date(value)
    except ValueError:
        raise ValueError("not a valid ISO date (YYYY-MM-DD)") from None


def parse_phone(value: Any) -> str | None:
    """Accept an E.164 number (`+4915…`) or nothing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _E164.fullmatch(value.replace(" ", "")):
        raise ValueError("not an E.164 phone number")
    return value.replace(" ", "")


def parse_email(value: Any) -> str | None:
    """Accept a plausible email address or nothing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        raise ValueError("not an email address")
    return value


def parse_external_id(value: Any) -> str | None:
    """Accept the creditor's own debtor id (text or a whole number), or nothing."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("not a debtor id (text or a whole number)")
    return value.strip() or None


Amount = Annotated[Decimal, BeforeValidator(parse_amount)]
IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
Text = Annotated[str, Field(min_length=1, max_length=300)]


class _In(BaseModel):
    """Strict input: unknown keys are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def _bank_detail(parse: Callable[[str], str]) -> Callable[[Any], str | None]:
    """Read an optional IBAN or BIC: empty is none, anything else must be valid."""

    def read(value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError("must be text")
        return parse(value)

    return read


class CreditorIn(_In):
    """A creditor entry of the import file."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    name: Text
    address: Text
    policy: Annotated[str, Field(min_length=1, max_length=64)] = "default"
    # Bank details for the payment details the bot gives (optional: else the agency's).
    iban: Annotated[str | None, BeforeValidator(_bank_detail(parse_iban))] = None
    bic: Annotated[str | None, BeforeValidator(_bank_detail(parse_bic))] = None
    # The payee's name as the bank knows it (EPC QR: at most 70); default the creditor's.
    account_holder: Annotated[str | None, Field(min_length=1, max_length=70)] = None

    @field_validator("bic", "account_holder")
    @classmethod
    def _needs_iban(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Refuse a BIC or account holder without the IBAN they belong to."""
        # A refused IBAN is missing from `data`: its own error names it.
        if value is not None and "iban" in info.data and info.data["iban"] is None:
            raise ValueError(f"{info.field_name} given without an iban")
        return value


class DebtorIn(_In):
    """The debtor of one claim."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    date_of_birth: Annotated[date, BeforeValidator(parse_birth_date)]
    postcode: Annotated[str, Field(min_length=3, max_length=16)]
    phone: Annotated[str | None, BeforeValidator(parse_phone)] = None
    email: Annotated[str | None, BeforeValidator(parse_email)] = None
    language: Literal["de", "en"] = "de"
    # The creditor's own id of this person: one more fact that tells people apart.
    external_id: Annotated[str | None, BeforeValidator(parse_external_id), Field(max_length=64)] = (
        None
    )


# A claim's own values, in ClaimIn's order: what an import sets beside who owes whom.
CLAIM_VALUES: Final = (
    "subject",
    "contract_date",
    "invoice_date",
    "due_date",
    "currency",
    "principal",
    "interest",
    "fees",
    "status",
)


class ClaimIn(_In):
    """One claim of the import file."""

    reference: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    creditor: Annotated[str, Field(min_length=1, max_length=64)]
    subject: Text
    contract_date: IsoDate | None = None
    invoice_date: IsoDate | None = None
    due_date: IsoDate
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    principal: Amount
    interest: Amount = Decimal("0.00")
    fees: Amount = Decimal("0.00")
    status: Literal["open", "disputed", "insolvency", "paid"] = "open"
    debtor: DebtorIn


class ClaimsFile(_In):
    """A whole `quitt-claims/1` file."""

    format: Literal["quitt-claims/1"]
    creditors: list[CreditorIn]
    claims: list[ClaimIn]


# --- API answers ---------------------------------------------------------------------


class CreditorOut(ORMModel):
    """The creditor as the console sees it."""

    id: str
    name: str


class DebtorOut(BaseModel):
    """The debtor without date of birth; phone masked."""

    name: str
    language: str
    phone: str | None
