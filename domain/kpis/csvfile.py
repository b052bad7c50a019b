"""The KPIs as CSV: `metric,value` rows of the totals, or one row per bucket of the series.

Numbers are written as the JSON has them (amounts with a decimal point, rates with
four places), so a script reads both alike. A text cell that a spreadsheet would take
for a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, Final

from domain.kpis.schemas import KpisOut, TotalsOut

# The counts of a bucket row, in this order, after `from` and `to`.
BUCKET_COUNTS: Final = (
    "conversations",
    "verified",
    "settled",
    "contained",
    "promises",
    "pending",
    "kept",
    "broken",
    "handoffs",
)
BUCKET_RATES: Final = ("verified", "containment", "kept", "broken")


def safe(value: Any) -> str:
    """Return a cell's text, never read by a spreadsheet as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def metric_rows(totals: TotalsOut) -> list[tuple[str, str]]:
    """Flatten the totals into `metric, value` rows (dotted names, as in the JSON)."""
    data: dict[str, Any] = totals.model_dump(mode="json", by_alias=True)
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):  # amounts: one block per currency
            for item in value:
                currency = item.pop("currency")
                walk(f"{prefix}.{currency}", item)
        else:
            rows.append((prefix, "" if value is None else str(value)))

    walk("", data)
    return rows


def metric_csv(totals: TotalsOut) -> str:
    """Return the totals as `metric,value` CSV."""
    return _write(("metric", "value"), metric_rows(totals))


def bucket_csv(answer: KpisOut) -> str:
    """Return the series as CSV, one row per bucket, amounts per currency at the end."""
    currencies = sorted({a.currency for part in answer.series for a in part.amounts})
    header = ["from", "to", *BUCKET_COUNTS, *(f"{name}_rate" for name in BUCKET_RATES)]
    for currency in currencies:
        header += [f"promised_{currency}", f"received_{currency}"]
    rows = []
    for part in answer.series:
        data = part.model_dump(mode="json", by_alias=True)
        row = [data["from"], data["to"], *(data[name] for name in BUCKET_COUNTS)]
        row += [data["rates"][name] for name in BUCKET_RATES]
        money = {a["currency"]: a for a in data["amounts"]}
        for currency in currencies:
            held = money.get(currency, {"promised": "0.00", "received": "0.00"})
            row += [held["promised"], held["received"]]
        rows.append(row)
    return _write(header, rows)
