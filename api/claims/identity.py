"""Who a claim's debtor is: the one place that decides when two rows are the same person.

Today a debtor is identified by name and date of birth (the unique key of the
`debtors` table). Changing that rule means changing `debtor_key`, `stored_key`
and `find_debtors` together, nothing else.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import NamedTuple

from sqlalchemy import Connection, Table

import api.claims.models  # noqa: F401  (defines the debtors table)
from api.claims.rows import ClaimRow
from api.claims.tablerows import TableRows
from api.db import Base

DebtorKey = tuple[str, date]

debtors: Table = Base.metadata.tables["debtors"]


class Details(NamedTuple):
    """A debtor's contact details: what a later row of the same person may change."""

    postcode: str
    phone: str | None
    email: str | None
    language: str


_COLUMNS = ("id", "name", "date_of_birth", *Details._fields)


def debtor_key(row: ClaimRow) -> DebtorKey:
    """Return the key that identifies a claim's debtor: name and date of birth."""
    return row.name, row.date_of_birth


def stored_key(name: str, date_of_birth: date) -> DebtorKey:
    """Return the key of a stored debtor, by the same rule as `debtor_key`."""
    return name, date_of_birth


def details(row: ClaimRow) -> Details:
    """Return the contact details a claim gives for its debtor."""
    return Details(row.postcode, row.phone, row.email, row.language)


def debtor_rows(connection: Connection) -> TableRows:
    """Return the reader `find_debtors` needs on this connection."""
    return TableRows(connection, debtors, _COLUMNS)


def find_debtors(
    rows: TableRows, keys: Collection[DebtorKey]
) -> dict[DebtorKey, tuple[int, Details]]:
    """Find stored debtors by key: {key: (id, details)}."""
    # By name (the unique index leads with it), then the exact key: a plain IN list is
    # quicker on both databases than a row-value IN of thousands of pairs.
    found = {}
    for debtor_id, name, born, *rest in rows.select_in("name", list({n for n, _ in keys})):
        key = stored_key(name, born)
        if key in keys:
            found[key] = (debtor_id, Details(*rest))
    return found
