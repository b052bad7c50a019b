"""Write validated claims a batch at a time: one query to compare, one statement per change.

Each batch of claims costs a handful of statements whatever its size: the stored
claims it mentions are read with their debtors in one query (the other debtors
it names in a second) and compared in Python; new rows go in with one
executemany INSERT (on PostgreSQL by COPY), changed ones with one executemany
UPDATE; unchanged rows cost nothing more, so a re-import of the same file only
reads. Without `write` (a dry run) the same comparison runs and counts, and
nothing is written.

Who each claim's debtor is, and writing the debtors, is `domain.claims.debtors`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, Table, insert, select, update

from domain.claims.debtors import DEBTOR_FIELDS, DebtorWriter, StoredDebtor
from domain.claims.identity import Details, is_erased, stored_key
from domain.claims.ledger import Ledger, Person
from domain.claims.report import ImportReport
from domain.claims.rows import ClaimRow
from domain.claims.schemas import CLAIM_VALUES, CreditorIn
from domain.claims.tablerows import Reader, TableRows
from domain.db import Base

# The columns a claims file sets; a claim whose stored values equal these is unchanged.
CLAIM_FIELDS: Final = ("creditor_id", "debtor_id", *CLAIM_VALUES)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _claim_values(row: ClaimRow, debtor_id: int) -> tuple[Any, ...]:
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
        self.debtors = DebtorWriter(connection, report, ledger, write=write, entry_name=entry_name)

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
        stored = self._stored([row.reference for row in batch])
        erased = {ref for ref, (_, (_, key, _)) in stored.items() if is_erased(key[0])}
        if erased:
            # A person erased on request (GDPR Art. 17) is not brought back by a re-import
            # of the creditor's old file: their claims keep the pseudonym.
            for row in batch:
                if row.reference in erased:
                    where = self.entry_name(row.position, {"reference": row.reference})
                    self.report.warn(
                        f"{where}: its debtor's data was erased on request; "
                        "the claim is left as it is"
                    )
            self.report.claims.add("unchanged", len(erased))
            batch = [row for row in batch if row.reference not in erased]
            stored = {ref: value for ref, value in stored.items() if ref not in erased}
        persons = self.debtors.resolve(
            batch, {reference: debtor for reference, (_, debtor) in stored.items()}
        )
        self._claims(batch, persons, {ref: values for ref, (values, _) in stored.items()})

    def _stored(self, references: list[str]) -> dict[str, tuple[tuple[Any, ...], StoredDebtor]]:
        """Read the stored claims among `references`: their values and their debtors."""
        width = len(CLAIM_FIELDS)
        stored = {}
        for row in self.claim_select.select_in("claims.reference", references):
            values = tuple(row[1 : width + 1])
            key = stored_key(row[width + 1], row[width + 2])
            stored[row[0]] = (values, (values[1], key, Details(*row[width + 3 :])))
        return stored

    def finish(self) -> None:
        """Write the stored debtors whose details changed; count what happened to debtors."""
        self.debtors.finish()

    def _claims(
        self,
        batch: Sequence[ClaimRow],
        persons: Sequence[Person],
        stored: dict[str, tuple[Any, ...]],
    ) -> None:
        """Create, update or leave alone the claims of a batch (`persons`: their debtors)."""
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        unchanged = 0
        now = self.now
        for row, person in zip(batch, persons, strict=True):
            values = _claim_values(row, person.id)
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
