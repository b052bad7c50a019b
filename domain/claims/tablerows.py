"""Many rows at once, through the database driver, typed as SQLAlchemy types them.

At 100,000 rows SQLAlchemy's per-row statement machinery costs more than the
writes themselves. Here the values go through the very same column type
processors (Money's quantising, SQLite's date strings, UTC timestamps), in a
plain loop with each processor's results cached (a claims file repeats its
dates, fees and timestamps endlessly), and reach the driver as one executemany
or, on PostgreSQL, one COPY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Column, Connection, Table

_CACHE: Final = 1 << 12

Processor = Callable[[Any], Any]


def _cached(processor: Processor | None) -> Processor | None:
    """Cache a type processor's results (every value of ours is hashable)."""
    return None if processor is None else lru_cache(maxsize=_CACHE)(processor)


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


class Reader:
    """Read `columns` (of one table or several joined in `source`) by a list of keys."""

    def __init__(self, connection: Connection, columns: Sequence[Column[Any]], source: str) -> None:
        self.connection = connection
        dialect = connection.dialect
        self._types = [column.type.dialect_impl(dialect) for column in columns]
        self._select = f"SELECT {', '.join(str(c) for c in columns)} FROM {source}"
        self._processors: list[tuple[int, Processor]] | None = None  # need the driver's types

    def select_in(self, key: str, values: Sequence[Any]) -> list[list[Any]]:
        """Read the rows whose `key` is one of `values`, as the column types return them."""
        if not values:
            return []
        if self.connection.dialect.name == "postgresql":
            # One array parameter: PostgreSQL plans `= ANY` of an array much faster than
            # an IN list of thousands of parameters.
            result = self.connection.exec_driver_sql(
                f"{self._select} WHERE {key} = ANY(%s)", (list(values),)
            )
        else:
            marks = ", ".join([_mark(self.connection)] * len(values))
            result = self.connection.exec_driver_sql(
                f"{self._select} WHERE {key} IN ({marks})", tuple(values)
            )
        if self._processors is None:
            dialect = self.connection.dialect
            codes = [column[1] for column in result.cursor.description]
            self._processors = [
                (index, processor)
                for index, (column_type, code) in enumerate(zip(self._types, codes, strict=True))
                if (processor := _cached(column_type.result_processor(dialect, code))) is not None
            ]
        rows = []
        for raw in result.all():
            row = list(raw)
            for index, processor in self._processors:
                if row[index] is not None:
                    row[index] = processor(row[index])
            rows.append(row)
        return rows


class TableRows:
    """Insert, update and read rows of `table` with the given columns, in that order."""

    def __init__(self, connection: Connection, table: Table, columns: Sequence[str]) -> None:
        dialect = connection.dialect
        self.connection = connection
        self.table = table
        self.columns = list(columns)
        self._binders = [
            (index, processor)
            for index, name in enumerate(self.columns)
            if (
                processor := _cached(
                    table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                )
            )
            is not None
        ]
        self._reader = Reader(connection, [table.c[name] for name in columns], table.name)

    def _bind(self, rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Turn Python values into what the driver stores, as the column types would."""
        bound: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            for index, processor in self._binders:
                if values[index] is not None:
                    values[index] = processor(values[index])
            bound.append(tuple(values))
        return bound

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows: COPY on PostgreSQL, one executemany INSERT elsewhere."""
        names = ", ".join(self.columns)
        bound = self._bind(rows)
        if self.connection.dialect.name == "postgresql":
            driver = self.connection.connection.driver_connection
            assert driver is not None
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN") as copy,
            ):
                for row in bound:
                    copy.write_row(row)
            return
        marks = ", ".join([_mark(self.connection)] * len(self.columns))
        self.connection.exec_driver_sql(
            f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})", bound
        )

    def update(self, key: str, rows: Sequence[Sequence[Any]]) -> None:
        """Update the rows found by `key`, which is each row's last value."""
        mark = _mark(self.connection)
        sets = ", ".join(f"{name} = {mark}" for name in self.columns if name != key)
        self.connection.exec_driver_sql(
            f"UPDATE {self.table.name} SET {sets} WHERE {key} = {mark}", self._bind(rows)
        )

    def select_in(self, key: str, values: Sequence[Any]) -> list[list[Any]]:
        """Read the rows whose `key` is one of `values`, as the column types return them."""
        return self._reader.select_in(key, values)
