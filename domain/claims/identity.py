"""Who a claim's debtor is: the one place that decides when two rows are the same person.

Name and date of birth are not enough: two people may share both (a common
name, the same day). Rows with the same name and date of birth are one person
only when a further fact agrees: the postcode, the phone number, the e-mail
address or the creditor's own debtor id (`external_id`). Otherwise they are two
debtors, and the import says so. Changing that rule means changing `debtor_key`,
`same_facts`, `likeness` and `find_debtors` together, nothing else.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Final, NamedTuple

from sqlalchemy import Connection, Table

import domain.claims.models  # noqa: F401  (defines the debtors table)
from domain.claims.rows import ClaimRow
from domain.claims.tablerows import TableRows
from domain.db import Base

# Name and date of birth: who *may* be the same person (and is looked up by).
DebtorKey = tuple[str, date]

debtors: Table = Base.metadata.tables["debtors"]


class Details(NamedTuple):
    """A debtor's details beyond the key: what a later row of the same person may change."""

    postcode: str
    phone: str | None
    email: str | None
    language: str
    external_id: str | None


# The facts of which one must agree for two rows with the same key to be one person.
FACTS: Final = ("postcode", "phone", "email", "external_id")
# How messages name the facts: "no postcode, phone, email or debtor id in common".
FACT_NAMES: Final = {
    "postcode": "postcode",
    "phone": "phone",
    "email": "email",
    "external_id": "debtor id",
}

_COLUMNS = ("id", "name", "date_of_birth", *Details._fields)


def debtor_key(row: ClaimRow) -> DebtorKey:
    """Return the key under which a claim's debtor is looked up: name and date of birth."""
    return row.name, row.date_of_birth


# The name an erased person's debtor row keeps (domain/privacy/erase.py): a pseudonym.
ERASED_PREFIX = "erased:"


def is_erased(name: str) -> bool:
    """Tell whether a stored debtor was erased on request (its name is a pseudonym)."""
    return name.startswith(ERASED_PREFIX)


def stored_key(name: str, date_of_birth: date) -> DebtorKey:
    """Return the key of a stored debtor, by the same rule as `debtor_key`."""
    return name, date_of_birth


def details(row: ClaimRow) -> Details:
    """Return the details a claim gives for its debtor."""
    return Details(row.postcode, row.phone, row.email, row.language, row.external_id)


def _fact(name: str, value: str | None) -> str | None:
    """Return a fact as it is compared: postcodes without spaces, e-mail in any case."""
    if value is None:
        return None
    if name == "postcode":
        return value.replace(" ", "").upper()
    if name == "email":
        return value.casefold()
    return value


def same_facts(a: Details, b: Details) -> tuple[str, ...]:
    """Name the facts two debtors of the same key share (none: two different people)."""
    return tuple(
        name
        for name in FACTS
        if (value := _fact(name, getattr(a, name))) is not None
        and value == _fact(name, getattr(b, name))
    )


def likeness(known: Details, found: Details) -> tuple[bool, int] | None:
    """Rank how well `found` describes a debtor of the same key; None: another person.

    The creditor's own debtor id, when it agrees, outweighs the other facts (it is
    given to identify the person; an address or a phone may be a household's); then
    the more facts agree, the better.
    """
    shared = same_facts(known, found)
    return ("external_id" in shared, len(shared)) if shared else None


def fact_list(names: Sequence[str], conjunction: str) -> str:
    """Name facts in a message: `postcode, phone or email`."""
    words = [FACT_NAMES[name] for name in names]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def debtor_rows(connection: Connection) -> TableRows:
    """Return the reader `find_debtors` needs on this connection."""
    return TableRows(connection, debtors, _COLUMNS)


def find_debtors(
    rows: TableRows, keys: Collection[DebtorKey]
) -> dict[DebtorKey, list[tuple[int, Details]]]:
    """Find the stored debtors of each key: {key: [(id, details), ...]}, by id."""
    # By name (the index leads with it), then the exact key: a plain IN list is
    # quicker on both databases than a row-value IN of thousands of pairs.
    found: dict[DebtorKey, list[tuple[int, Details]]] = {}
    for debtor_id, name, born, *rest in rows.select_in("name", list({n for n, _ in keys})):
        key = stored_key(name, born)
        if key in keys:
            found.setdefault(key, []).append((debtor_id, Details(*rest)))
    for persons in found.values():
        persons.sort()
    return found
