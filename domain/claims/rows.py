"""A validated claim as one flat row: what the writer takes and what crosses between processes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from domain.claims.schemas import ClaimIn


class ClaimRow(NamedTuple):
    """A claim that passed validation, its debtor's fields flat beside its own."""

    position: int  # where the file has it: an index (JSON) or a spreadsheet row (CSV)
    reference: str
    creditor: str
    subject: str
    contract_date: date | None
    invoice_date: date | None
    due_date: date
    currency: str
    principal: Decimal
    interest: Decimal
    fees: Decimal
    status: str
    name: str
    date_of_birth: date
    postcode: str
    phone: str | None
    email: str | None
    language: str
    external_id: str | None  # the creditor's own id of the debtor


def claim_row(position: int, claim: ClaimIn) -> ClaimRow:
    """Flatten a validated claim."""
    debtor = claim.debtor
    return ClaimRow(
        position,
        claim.reference,
        claim.creditor,
        claim.subject,
        claim.contract_date,
        claim.invoice_date,
        claim.due_date,
        claim.currency,
        claim.principal,
        claim.interest,
        claim.fees,
        claim.status,
        debtor.name,
        debtor.date_of_birth,
        debtor.postcode,
        debtor.phone,
        debtor.email,
        debtor.language,
        debtor.external_id,
    )


def _day(value: date | None) -> int | None:
    return None if value is None else value.toordinal()


def _from_day(value: int | None) -> date | None:
    return None if value is None else date.fromordinal(value)


def pack(row: ClaimRow) -> tuple[Any, ...]:
    """Encode a row for another process: plain ints and strings pickle ten times faster."""
    return (
        *row[:4],
        _day(row.contract_date),
        _day(row.invoice_date),
        row.due_date.toordinal(),
        row.currency,
        str(row.principal),
        str(row.interest),
        str(row.fees),
        row.status,
        row.name,
        row.date_of_birth.toordinal(),
        *row[14:],
    )


def unpack(packed: tuple[Any, ...]) -> ClaimRow:
    """Decode a row packed by `pack`."""
    return ClaimRow._make(
        (
            *packed[:4],
            _from_day(packed[4]),
            _from_day(packed[5]),
            date.fromordinal(packed[6]),
            packed[7],
            Decimal(packed[8]),
            Decimal(packed[9]),
            Decimal(packed[10]),
            packed[11],
            packed[12],
            date.fromordinal(packed[13]),
            *packed[14:],
        )
    )
