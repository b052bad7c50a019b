"""Look for traces of a person in every column of every table (and in Rasa's tracker).

Proof after an erasure that no name, phone number, e-mail address, date of birth
or message of theirs is left: the tables are read from the database itself, not
from our models, so a table nobody told the erasure about is searched too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, MetaData, select

from domain.claims.models import Debtor
from domain.db import make_engine
from domain.privacy import tracker
from domain.privacy.person import phone_spellings

BATCH = 1000


@dataclass(frozen=True)
class Trace:
    """Where a needle was found: table, column, the row's key and what was found."""

    table: str
    column: str
    key: str
    found: str

    def __str__(self) -> str:
        """Name the place, never the value."""
        return f"{self.found} in {self.table}.{self.column} ({self.key})"


def identity_needles(debtor: Debtor) -> dict[str, list[str]]:
    """Return how the debtor's identity data may be written, by what it is."""
    born = debtor.date_of_birth
    needles = {
        "name": [debtor.name],
        "phone": list(phone_spellings(debtor.phone)),
        "e-mail": [debtor.email] if debtor.email else [],
        "date of birth": [born.isoformat(), f"{born:%d.%m.%Y}"],
    }
    return {kind: values for kind, values in needles.items() if values}


def _text(value: Any) -> str:
    """Return a column value as searchable text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _rows(connection: Connection) -> Iterator[tuple[str, str, str, str, bool]]:
    """Yield (table, column, row key, text, whether a time) for every non-empty value."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    for table in metadata.sorted_tables:
        key_columns = list(table.primary_key.columns) or list(table.columns)[:1]
        rows = connection.execute(select(table).execution_options(yield_per=BATCH)).mappings()
        for row in rows:
            key = ", ".join(f"{c.name}={row[c.name]}" for c in key_columns)
            for column in table.columns:
                value = row[column.name]
                if value is not None and value != "":
                    # (Rasa's tracker keeps its times as floats.)
                    temporal = isinstance(value, datetime | date | float)
                    yield table.name, column.name, key, _text(value), temporal


def scan(connection: Connection, needles: Mapping[str, Sequence[str]]) -> list[Trace]:
    """Find every needle (any case) in every column of every table, and in Rasa's tracker."""
    lowered = [(kind, n.casefold()) for kind, values in needles.items() for n in values if n]
    connections = [connection]
    path = tracker.sqlite_tracker_path(str(connection.engine.url))
    engine = make_engine(f"sqlite:///{path}") if path is not None and path.exists() else None
    try:
        if engine is not None:
            connections.append(engine.connect())
        traces = []
        for each in connections:
            for table, column, key, value, temporal in _rows(each):
                folded = value.casefold()
                traces += [
                    Trace(table, column, key, kind)
                    for kind, needle in lowered
                    # A time holds only a date of a person ("…T23:10:11.528203" is no
                    # postcode 28203): digits alone are never looked for in one.
                    if needle in folded and not (temporal and needle.isdigit())
                ]
        return traces
    finally:
        if engine is not None:
            for extra in connections[1:]:
                extra.close()
            engine.dispose()
