"""The import's own bookkeeping: references read and persons met, in bounded memory.

An import must remember every reference it has read (a second one is an error)
and every person it has met (a later row of the same person wins, and is
reported). Several people may share a name and date of birth (one key), so the
ledger finds the persons met by key, each with its own id. Dictionaries are
quickest and cost about 0.6 KB a claim; past
`MEMORY_LIMIT` entries (some 100 MB) the ledger moves to a scratch SQLite file
beside the import, read and written a batch at a time, so memory stays flat
however long the file is. The file is deleted when the import ends.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from domain.claims.identity import DebtorKey, Details

MEMORY_LIMIT: Final = 200_000  # references plus persons
_CHUNK: Final = 2000
_SEPARATOR: Final = "\x1f"  # in no name, date, postcode, phone number or email address


@dataclass(slots=True)
class Person:
    """A debtor met in this import (or a stored one it may meet)."""

    # The debtor's id. A person the import creates has 0 until its batch ends, then
    # the id it is inserted with; in a dry run a negative stand-in (-1, -2, ...).
    id: int
    key: DebtorKey
    written: Details | None  # the details stored now (None: not stored)
    details: Details  # the details in force: those of the latest row
    position: int | None  # the person's latest row; None: stored, not met in this import
    new: bool  # created by this import


def met_order(person: Person) -> tuple[bool, int]:
    """Order the persons of one key: stored debtors by id, then new ones as created."""
    return person.new, abs(person.id)


Pending = tuple[Any, ...]  # (postcode, phone, email, language, external_id, id)


class _Book(Protocol):
    def record_references(self, positions: Mapping[str, int]) -> dict[str, int]: ...
    def met(self, keys: Iterable[DebtorKey]) -> dict[DebtorKey, list[Person]]: ...
    def save(self, persons: Iterable[Person]) -> None: ...
    def counts(self) -> tuple[int, int, int]: ...
    def pending(self) -> Iterator[list[Pending]]: ...
    def size(self) -> int: ...
    def close(self) -> None: ...


class _InMemory:
    """The ledger as dictionaries."""

    def __init__(self) -> None:
        self.references: dict[str, int] = {}
        self.people: dict[DebtorKey, list[Person]] = {}
        self.count = 0

    def record_references(self, positions: Mapping[str, int]) -> dict[str, int]:
        earlier = {ref: self.references[ref] for ref in positions if ref in self.references}
        for ref, position in positions.items():
            self.references.setdefault(ref, position)
        return earlier

    def met(self, keys: Iterable[DebtorKey]) -> dict[DebtorKey, list[Person]]:
        return {key: sorted(self.people[key], key=met_order) for key in keys if key in self.people}

    def save(self, persons: Iterable[Person]) -> None:
        # The persons met are the very objects handed out by `met`: only new ones are added.
        for person in persons:
            group = self.people.setdefault(person.key, [])
            if not any(known is person for known in group):
                group.append(person)
                self.count += 1

    def everyone(self) -> Iterator[Person]:
        """Yield every person met."""
        for group in self.people.values():
            yield from group

    def counts(self) -> tuple[int, int, int]:
        created = updated = 0
        for person in self.everyone():
            if person.new:
                created += 1
            elif person.details != person.written:
                updated += 1
        return created, updated, self.count - created - updated

    def pending(self) -> Iterator[list[Pending]]:
        changed = [
            (*p.details, p.id) for p in self.everyone() if p.id > 0 and p.details != p.written
        ]
        for start in range(0, len(changed), _CHUNK):
            yield changed[start : start + _CHUNK]

    def size(self) -> int:
        return len(self.references) + self.count

    def close(self) -> None:
        self.references.clear()
        self.people.clear()
        self.count = 0


def _text(parts: Iterable[Any]) -> str:
    return _SEPARATOR.join("" if part is None else str(part) for part in parts)


def _details(text: str) -> Details:
    postcode, phone, email, language, external_id = text.split(_SEPARATOR)
    return Details(postcode, phone or None, email or None, language, external_id or None)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class _OnDisk:
    """The ledger as a scratch SQLite file (its page cache bounded, no journal, no syncs)."""

    _SCHEMA: Final = (
        "CREATE TABLE refs (reference TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID",
        "CREATE TABLE persons (id INTEGER PRIMARY KEY, key TEXT NOT NULL, "
        "position INTEGER NOT NULL, new INTEGER NOT NULL, written TEXT, details TEXT NOT NULL)",
        "CREATE INDEX persons_key ON persons (key)",
    )

    def __init__(self) -> None:
        self._directory = tempfile.mkdtemp(prefix="quitt-import-")
        self._db = sqlite3.connect(Path(self._directory) / "ledger.db", isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-16384"):
            self._db.execute(f"PRAGMA {pragma}")
        for statement in self._SCHEMA:
            self._db.execute(statement)
        # One transaction, never committed: nothing here has to last, and pages reach the
        # file only when the cache is full.
        self._db.execute("BEGIN")
        self._size = 0

    def record_references(self, positions: Mapping[str, int]) -> dict[str, int]:
        references = list(positions)
        earlier = dict(
            self._db.execute(
                f"SELECT reference, position FROM refs WHERE reference IN "
                f"({_marks(len(references))})",
                references,
            ).fetchall()
        )
        rows = [(ref, position) for ref, position in positions.items() if ref not in earlier]
        self._db.executemany("INSERT INTO refs VALUES (?, ?)", rows)
        self._size += len(rows)
        return earlier

    def met(self, keys: Iterable[DebtorKey]) -> dict[DebtorKey, list[Person]]:
        by_text = {_text(key): key for key in keys}
        rows = self._db.execute(
            f"SELECT key, id, position, new, written, details FROM persons "
            f"WHERE key IN ({_marks(len(by_text))})",
            list(by_text),
        ).fetchall()
        found: dict[DebtorKey, list[Person]] = {}
        for text, debtor_id, position, new, written, details in rows:
            key = by_text[text]
            found.setdefault(key, []).append(
                Person(
                    debtor_id,
                    key,
                    None if written is None else _details(written),
                    _details(details),
                    position,
                    bool(new),
                )
            )
        return {key: sorted(group, key=met_order) for key, group in found.items()}

    def save(self, persons: Iterable[Person]) -> None:
        before = self._db.total_changes
        self._db.executemany(
            "INSERT OR REPLACE INTO persons VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    p.id,
                    _text(p.key),
                    p.position,
                    int(p.new),
                    None if p.written is None else _text(p.written),
                    _text(p.details),
                )
                for p in persons
            ],
        )
        self._size += self._db.total_changes - before  # an upper bound, which is enough

    def counts(self) -> tuple[int, int, int]:
        created, updated, unchanged = self._db.execute(
            "SELECT coalesce(sum(new), 0), "
            "coalesce(sum(NOT new AND written IS NOT details), 0), "
            "coalesce(sum(NOT new AND written IS details), 0) FROM persons"
        ).fetchone()
        return int(created), int(updated), int(unchanged)

    def pending(self) -> Iterator[list[Pending]]:
        cursor = self._db.execute(
            "SELECT details, id FROM persons WHERE id > 0 AND written IS NOT details"
        )
        while rows := cursor.fetchmany(_CHUNK):
            yield [(*_details(details), debtor_id) for details, debtor_id in rows]

    def size(self) -> int:
        return self._size

    def close(self) -> None:
        self._db.close()
        shutil.rmtree(self._directory, ignore_errors=True)


class Ledger:
    """References read and persons met so far in one import."""

    def __init__(self, memory_limit: int = MEMORY_LIMIT) -> None:
        self._memory_limit = memory_limit
        self._book: _Book = _InMemory()

    @property
    def on_disk(self) -> bool:
        """Tell whether the ledger has moved to its scratch file."""
        return isinstance(self._book, _OnDisk)

    def _grown(self) -> None:
        """Move to the scratch file once memory would hold too much."""
        book = self._book
        if not isinstance(book, _InMemory) or book.size() <= self._memory_limit:
            return
        disk = _OnDisk()
        references = list(book.references.items())
        for start in range(0, len(references), _CHUNK):
            disk.record_references(dict(references[start : start + _CHUNK]))
        people = list(book.everyone())
        for start in range(0, len(people), _CHUNK):
            disk.save(people[start : start + _CHUNK])
        book.close()
        self._book = disk

    def record_references(self, positions: Mapping[str, int]) -> dict[str, int]:
        """Record where references were read; return those read before, with that position."""
        earlier = self._book.record_references(positions)
        self._grown()
        return earlier

    def met(self, keys: Iterable[DebtorKey]) -> dict[DebtorKey, list[Person]]:
        """Return the persons already met, by key, in `met_order` (change them, then `save`)."""
        return self._book.met(keys)

    def save(self, persons: Iterable[Person]) -> None:
        """Record the state of persons met (again) in a batch; each has its final id."""
        self._book.save(persons)
        self._grown()

    def counts(self) -> tuple[int, int, int]:
        """Count the persons created, updated and left unchanged, by their latest details."""
        return self._book.counts()

    def pending(self) -> Iterator[list[Pending]]:
        """Yield, in chunks, (postcode, phone, email, language, external_id, id) of stored
        debtors whose stored details differ from those in force."""
        return self._book.pending()

    def close(self) -> None:
        """Forget everything (and delete the scratch file)."""
        self._book.close()
