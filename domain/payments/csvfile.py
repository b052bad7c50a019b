"""Bank statements as CSV: one booking per row, as banking software exports it.

Columns (any order, any case): `booking_date`, `amount`, `remittance`, `payer`,
`transaction_id`, and optionally `currency` (default EUR). The file is read as
the claims importer reads spreadsheets (domain/claims/csvfile.py): `;`, `,` or tab,
UTF-8 (with or without BOM) or Windows-1252, decimal comma or point, dates
`YYYY-MM-DD` or `DD.MM.YYYY`. A positive amount is a credit; a negative one is
a debit, left out and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from domain.claims.csvfile import normalise_amount, open_table, parse_date
from domain.errors import ValidationFailed
from domain.payments.statement import (
    PAYER_MAX,
    REMITTANCE_MAX,
    TRANSACTION_ID_MAX,
    Skipped,
    Statement,
    StatementLine,
    clip,
    join_text,
    reject,
)

COLUMNS: Final = ("booking_date", "amount", "remittance", "payer", "transaction_id", "currency")
REQUIRED: Final = ("booking_date", "amount", "remittance", "transaction_id")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_CENT: Final = Decimal("0.01")


def _amount(cell: str) -> Decimal:
    """Read a signed spreadsheet amount (`-1.234,56`, `+50,00`, `75.5 €`)."""
    text = cell.replace("€", "").removesuffix("EUR").strip().removeprefix("+").strip()
    try:
        amount = Decimal(normalise_amount(text))
    except InvalidOperation:
        raise ValueError(f"not an amount: {cell!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {cell!r}")
    if amount != amount.quantize(_CENT):
        raise ValueError(f"more than 2 decimal places: {cell!r}")
    return amount.quantize(_CENT)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, cells by column), with the claims reader's refusals reworded."""
    try:
        table = open_table(path, COLUMNS, REQUIRED)
        for number, cells in table.rows():
            yield number, dict(zip(table.columns, cells, strict=True))
    except ValidationFailed as exc:
        # The shared reader speaks of a claims file; keep its details, name the statement.
        if exc.message.startswith("claims file rejected"):
            raise reject(exc.errors) from None
        raise


def read_csv(path: Path) -> Statement:
    """Read a CSV statement whole: its credits and the debits it leaves out, or refuse it."""
    statement = Statement(source="csv")
    errors: list[str] = []
    for number, row in _rows(path):
        transaction_id = row.get("transaction_id", "")
        where = f"row {number}" + (f" (transaction_id {transaction_id})" if transaction_id else "")
        problems: list[str] = []
        booked_on = parse_date(row.get("booking_date", ""))
        if booked_on is None:
            problems.append(
                f"booking_date: not a date (YYYY-MM-DD or DD.MM.YYYY): {row.get('booking_date')!r}"
            )
        try:
            amount = _amount(row.get("amount", ""))
        except ValueError as error:
            problems.append(f"amount: {error}")
            amount = Decimal("0.00")
        currency = (row.get("currency") or "EUR").upper()
        if not _CURRENCY.fullmatch(currency):
            problems.append(f"currency: not a currency code: {currency!r}")
        if not transaction_id:
            problems.append("transaction_id: missing")
        elif len(transaction_id) > TRANSACTION_ID_MAX:
            problems.append(f"transaction_id: longer than {TRANSACTION_ID_MAX} characters")
        if problems:
            errors += [f"{where}: {problem}" for problem in problems]
            continue
        assert booked_on is not None
        if amount < 0:
            statement.skipped.append(Skipped(where, "debit", -amount))
            continue
        if amount == 0:
            statement.skipped.append(Skipped(where, "zero amount", amount))
            continue
        payer = " ".join((row.get("payer") or "").split())
        statement.credits.append(
            StatementLine(
                transaction_id=transaction_id,
                amount=amount,
                currency=currency,
                booked_on=booked_on,
                remittance=clip(join_text([row.get("remittance")]), REMITTANCE_MAX),
                payer=clip(payer, PAYER_MAX) if payer else None,
                where=where,
            )
        )
    if errors:
        raise reject(errors)
    return statement
