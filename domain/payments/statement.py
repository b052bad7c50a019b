"""What every statement reader hands the import: booked credits, and what it left out.

A reader (camt.053 XML, CSV) either returns the whole statement or raises one
refusal that names each bad entry and field: a statement is imported whole or
not at all. Payer names and remittance texts are personal data; they live in
these objects and in the database, never in a message that reaches a log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final

from domain.errors import ValidationFailed

MAX_REPORTED_LINES: Final = 20
# Column sizes of the payments table.
TRANSACTION_ID_MAX: Final = 140
REMITTANCE_MAX: Final = 500
PAYER_MAX: Final = 140


@dataclass(frozen=True)
class StatementLine:
    """One booked credit: a payment into the account, as the bank reported it."""

    transaction_id: str
    amount: Decimal
    currency: str
    booked_on: date
    remittance: str
    payer: str | None
    where: str  # how messages name it: "entry 3 (AcctSvcrRef 2026…)", "row 4"
    # The payer's references (camt.053 only): a return or reversal repeats them.
    end_to_end_id: str | None = None
    tx_id: str | None = None


@dataclass(frozen=True)
class DebitLine:
    """A booked debit, which may take back a credit booked before (domain/payments/reversal.py).

    `reversal` is the bank's reversal indicator (`RvslInd`); `references` are the
    transfer's EndToEndId and TxId, which a return or reversal shares with its credit.
    """

    transaction_id: str
    amount: Decimal
    currency: str
    booked_on: date
    reversal: bool
    references: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class Skipped:
    """An entry the import leaves out on purpose (a debit, a pending entry, a reversal).

    A debit carries what was read of it: the import books it as the reversal of a
    credit it takes back, and leaves it out otherwise.
    """

    where: str
    reason: str  # "debit", "not booked", "reversal"
    amount: Decimal
    debit: DebitLine | None = None


@dataclass
class Statement:
    """A whole statement: its credits and the entries left out."""

    source: str  # "camt.053.001.08", "csv"
    credits: list[StatementLine] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def reject(errors: list[str]) -> ValidationFailed:
    """Build the all-or-nothing refusal that names the first problem and lists the rest."""
    shown = errors[:MAX_REPORTED_LINES]
    if len(errors) > len(shown):
        shown.append(f"... and {len(errors) - len(shown)} more")
    return ValidationFailed(
        f"statement rejected, nothing imported ({len(errors)} error(s)): {errors[0]}", shown
    )


def check_duplicates(statement: Statement) -> None:
    """Refuse two different credits under one transaction id; drop exact repeats.

    A statement that lists the very same booking twice (pages that overlap) is
    read once; two different bookings under one id cannot both be imported once.
    """
    first: dict[str, StatementLine] = {}
    kept: list[StatementLine] = []
    errors: list[str] = []
    for line in statement.credits:
        seen = first.get(line.transaction_id)
        if seen is None:
            first[line.transaction_id] = line
            kept.append(line)
        elif (seen.amount, seen.booked_on, seen.remittance) != (
            line.amount,
            line.booked_on,
            line.remittance,
        ):
            errors.append(
                f"{line.where}: transaction id {line.transaction_id!r} is also {seen.where}'s, "
                "with other details"
            )
    if errors:
        raise reject(errors)
    statement.credits = kept


def clip(text: str, limit: int) -> str:
    """Cut a text to a column's size."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_text(parts: Iterable[str | None]) -> str:
    """Join remittance lines as one text, spaces collapsed."""
    return " ".join(" ".join(part.split()) for part in parts if part and part.strip())
