"""Write validated claims a batch at a time: one query to compare, one statement per change.

Each batch of claims costs a handful of statements whatever its size: the stored
claims it mentions are read with their debtors in one query (the other debtors
it names in a second) and compared in Python; new rows go in with one
executemany INSERT (on PostgreSQL by COPY), changed ones with one executemany
UPDATE; unchanged rows cost nothing more, so a re-import of the same file only
reads. Without `write` (a dry run) the same comparison runs and counts, and
nothing is written.

A person may appear on many rows, with details that change along the file: the
later row wins, with a warning. A debtor is inserted when first met; changes to
stored debtors are written once, at the end, so that a re-import of the same
file finds the stored details equal to the file's last ones and changes
nothing. Whom the import has met so far is kept in its ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Table, insert, select, update

from api.claims.identity import (
    DebtorKey,
    Details,
    debtor_key,
    debtor_rows,
    details,
    find_debtors,
    stored_key,
)
from api.claims.ledger import Ledger, Person
from api.claims.report import ImportReport
from api.claims.rows import ClaimRow
from api.claims.schemas import CreditorIn
from api.claims.tablerows import Reader, TableRows
from api.db import Base

# The columns a claims file sets; a claim whose stored values equal these is unchanged.
CLAIM_FIELDS: Final = (
    "creditor_id",
    "debtor_id",
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
DEBTOR_FIELDS: Final = ("name", "date_of_birth", *Details._fields)

# A claim of a batch with its debtor's key.
Keyed = tuple[ClaimRow, DebtorKey]
# A stored claim: its values in the order of CLAIM_FIELDS, its debtor's key and details.
Stored = tuple[tuple[Any, ...], DebtorKey, Details]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _claim_values(row: ClaimRow, debtor_id: int | None) -> tuple[Any, ...]:
    """Return a claim's values in the order of CLAIM_FIELDS."""
    return (row.creditor, debtor_id, *row[3:12])


class BulkWriter:
    """Compare batches of claims with the stored ones and write the difference."""

    def __init__(
        self,
        connection: Connection,
        report: ImportReport,
        ledger: Ledger,
        *,
        write: bool,
        now: datetime,
        entry_name: Callable[[int, Any], str],
    ) -> None:
        self.connection = connection
        self.report = report
        self.ledger = ledger
        self.write = write
        self.now = now
        self.entry_name = entry_name
        claims, debtors = _table("claims"), _table("debtors")
        # The stored claims of a batch with their debtors, in one query.
        self.claim_select = Reader(
            connection,
            [
                claims.c.reference,
                *(claims.c[name] for name in CLAIM_FIELDS),
                *(debtors.c[name] for name in DEBTOR_FIELDS),
            ],
            "claims JOIN debtors ON debtors.id = claims.debtor_id",
        )
        self.claim_insert = TableRows(
            connection, claims, ("reference", *CLAIM_FIELDS, "created_at", "updated_at")
        )
        self.claim_update = TableRows(
            connection, claims, (*CLAIM_FIELDS, "updated_at", "reference")
        )
        self.debtor_select = debtor_rows(connection)
        self.debtor_insert = TableRows(connection, debtors, ("id", *DEBTOR_FIELDS))
        self.debtor_update = TableRows(connection, debtors, (*Details._fields, "id"))
        self.next_debtor_id: int | None = None

    # --- creditors (a handful per file) ------------------------------------------------

    def write_creditors(self, entries: Sequence[CreditorIn]) -> None:
        """Create or update the creditors of the file, one by one."""
        table = _table("creditors")
        for entry in entries:
            values = entry.model_dump()
            stored = self.connection.execute(
                select(table).where(table.c.id == entry.id)
            ).one_or_none()
            if stored is None:
                self.report.creditors.add("created")
                if self.write:
                    self.connection.execute(insert(table).values(values))
            elif all(getattr(stored, name) == value for name, value in values.items()):
                self.report.creditors.add("unchanged")
            else:
                self.report.creditors.add("updated")
                if self.write:
                    self.connection.execute(
                        update(table).where(table.c.id == entry.id).values(values)
                    )

    # --- debtors and claims, a batch at a time -----------------------------------------

    def write_batch(self, batch: Sequence[ClaimRow]) -> None:
        """Write one batch of validated claims."""
        keyed = [(row, debtor_key(row)) for row in batch]
        stored = self._stored([row.reference for row in batch])
        persons = self._debtors(keyed, stored)
        self._claims(keyed, persons, stored)

    def _stored(self, references: list[str]) -> dict[str, Stored]:
        """Read the stored claims among `references`, with their debtors."""
        width = len(CLAIM_FIELDS)
        return {
            row[0]: (
                tuple(row[1 : width + 1]),
                stored_key(row[width + 1], row[width + 2]),
                Details(*row[width + 3 :]),
            )
            for row in self.claim_select.select_in("claims.reference", references)
        }

    def finish(self) -> None:
        """Write the stored debtors whose details changed; count what happened to debtors."""
        if self.write:
            for chunk in self.ledger.pending():
                self.debtor_update.update("id", chunk)
        created, updated, unchanged = self.ledger.counts()
        counts = self.report.debtors
        counts.add("created", created)
        counts.add("updated", updated)
        counts.add("unchanged", unchanged)

    def _debtors(
        self, batch: Sequence[Keyed], claims: dict[str, Stored]
    ) -> dict[DebtorKey, Person]:
        """Find or create the debtors of a batch; warn about changing details."""
        keys = {key for _, key in batch}
        persons = self.ledger.persons(keys)
        # The debtors of stored claims came with them; the others are looked up.
        stored: dict[DebtorKey, tuple[int, Details]] = {}
        for row, key in batch:
            old_claim = claims.get(row.reference)
            if old_claim is not None and old_claim[1] == key:
                stored[key] = (old_claim[0][1], old_claim[2])
        stored.update(find_debtors(self.debtor_select, keys - persons.keys() - stored.keys()))
        new: dict[DebtorKey, Person] = {}
        for row, key in batch:
            found = details(row)
            person = persons.get(key)
            if person is None:
                if key in stored:
                    debtor_id, old = stored[key]
                    # Equal details share one object: the ledger may hold many persons.
                    written = found if old == found else old
                    person = Person(debtor_id, written, found, row.position, new=False)
                else:
                    person = new[key] = Person(None, None, found, row.position, new=True)
                persons[key] = person
            elif person.details != found:
                self._warn_details(row, person, found)
                person.details = found
            person.position = row.position
        if new and self.write:
            self._insert_debtors(new)
        self.ledger.save(persons)
        return persons

    def _insert_debtors(self, new: dict[DebtorKey, Person]) -> None:
        """Insert new debtors with ids drawn beforehand, so that nothing is read back."""
        for person, debtor_id in zip(new.values(), self._debtor_ids(len(new)), strict=True):
            person.id = debtor_id
            person.written = person.details
        self.debtor_insert.insert([(p.id, *key, *p.details) for key, p in new.items()])

    def _debtor_ids(self, count: int) -> list[int]:
        """Draw ids for new debtors: from the sequence on PostgreSQL, past the largest on SQLite.

        SQLite gives a new row the largest id plus one as well; the import holds the only
        write lock from its first write on, so the ids it counts on are its own (and were
        another writer to take one, the insert would fail, never overwrite).
        """
        if self.connection.dialect.name == "postgresql":
            ids = self.connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('debtors', 'id')) "
                f"FROM generate_series(1, {int(count)})"
            ).scalars()
            return [int(debtor_id) for debtor_id in ids]
        if self.next_debtor_id is None:
            largest = self.connection.exec_driver_sql("SELECT max(id) FROM debtors").scalar()
            self.next_debtor_id = int(largest or 0) + 1
        start, self.next_debtor_id = self.next_debtor_id, self.next_debtor_id + count
        return list(range(start, start + count))

    def _warn_details(self, row: ClaimRow, person: Person, found: Details) -> None:
        """Report a person met again with other details (real data, not an error)."""
        old = person.details
        changed = ", ".join(
            name for name in Details._fields if getattr(old, name) != getattr(found, name)
        )
        where = self.entry_name(row.position, {"reference": row.reference})
        earlier = self.entry_name(person.position, None)
        self.report.warn(
            f"{where}: debtor: same name and date of birth as {earlier} but another {changed}; "
            "one debtor kept, with the later details"
        )

    def _claims(
        self, batch: Sequence[Keyed], persons: dict[DebtorKey, Person], claims: dict[str, Stored]
    ) -> None:
        """Create, update or leave alone the claims of a batch."""
        stored = {reference: values for reference, (values, _, _) in claims.items()}
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        unchanged = 0
        now = self.now
        for row, key in batch:
            values = _claim_values(row, persons[key].id)
            old = stored.get(row.reference)
            if old == values:
                unchanged += 1
            elif old is None:
                inserts.append((row.reference, *values, now, now))
            else:
                updates.append((*values, now, row.reference))
        counts = self.report.claims
        counts.add("unchanged", unchanged)
        counts.add("created", len(inserts))
        counts.add("updated", len(updates))
        if not self.write:
            return
        if inserts:
            self.claim_insert.insert(inserts)
        if updates:
            self.claim_update.update("reference", updates)
