"""The debtors of an import: who each claim's debtor is, and writing them a batch at a time.

Rows with the same name and date of birth are one person only when a further
fact agrees (`identity.same_facts`); otherwise a new debtor is created and the
report names both rows. A claim already stored keeps its debtor while the
file gives it the same name and date of birth: the same person on the same
claim stays the same debtor, so a re-import of a file finds every claim's
debtor where the first import put it and changes nothing.

A person may appear on many rows, with details that change along the file: the
later row wins, with a warning. A debtor is inserted when first met (its id
drawn beforehand, so nothing is read back); changes to stored debtors are
written once, at the end, so that a re-import finds the stored details equal
to the file's last ones. Whom the import has met so far is kept in its ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from sqlalchemy import Connection

from domain.claims.identity import (
    FACT_NAMES,
    FACTS,
    DebtorKey,
    Details,
    debtor_key,
    debtor_rows,
    details,
    fact_list,
    find_debtors,
    likeness,
    same_facts,
)
from domain.claims.ledger import Ledger, Person, met_order
from domain.claims.report import ImportReport
from domain.claims.rows import ClaimRow
from domain.claims.tablerows import TableRows
from domain.db import Base

DEBTOR_FIELDS: Final = ("name", "date_of_birth", *Details._fields)
# A stored claim's debtor: its id, key and details.
StoredDebtor = tuple[int, DebtorKey, Details]
# How many other debtors of the same name and date of birth a warning names.
_NAMED: Final = 3


def _best(group: Iterable[Person], found: Details) -> Person | None:
    """Return the person `found` describes best (the first on a tie), or None if nobody."""
    best, most = None, (False, 0)
    for person in group:
        rank = likeness(person.details, found)
        if rank is not None and rank > most:
            best, most = person, rank
    return best


class DebtorWriter:
    """Find or create the debtor of every claim, and write debtors as the import goes."""

    def __init__(
        self,
        connection: Connection,
        report: ImportReport,
        ledger: Ledger,
        *,
        write: bool,
        entry_name: Callable[[int, Any], str],
    ) -> None:
        self.connection = connection
        self.report = report
        self.ledger = ledger
        self.write = write
        self.entry_name = entry_name
        debtors = Base.metadata.tables["debtors"]
        self.select = debtor_rows(connection)
        self.insert = TableRows(connection, debtors, ("id", *DEBTOR_FIELDS))
        self.update = TableRows(connection, debtors, (*Details._fields, "id"))
        self.next_debtor_id: int | None = None
        self.stand_in = 0  # a dry run's ids of new persons: -1, -2, ...

    def resolve(self, batch: Sequence[ClaimRow], stored: dict[str, StoredDebtor]) -> list[Person]:
        """Return each claim's debtor, in the batch's order, creating those met first.

        `stored` holds the debtors of the batch's claims already stored, by reference.
        """
        keyed = [(row, debtor_key(row)) for row in batch]
        anchors: dict[str, int] = {}
        for row, key in keyed:
            old = stored.get(row.reference)
            if old is not None and old[1] == key:
                anchors[row.reference] = old[0]
        pool = self._candidates(keyed, stored, anchors)
        created: list[Person] = []
        touched: dict[int, Person] = {}  # by id() of the object: the persons of this batch
        chosen: list[Person] = []
        for row, key in keyed:
            found = details(row)
            group = pool.setdefault(key, [])
            anchor = anchors.get(row.reference)
            if anchor is not None:
                # The same person on the same claim stays the same debtor.
                person = next(p for p in group if p.id == anchor)
                if person.position is None:
                    self._warn_apart(row, found, [p for p in group if p.position is not None])
            else:
                match = _best(group, found)
                if match is None:
                    self._warn_apart(row, found, group)
                    match = Person(0, key, None, found, None, new=True)
                    group.append(match)
                    created.append(match)
                person = match
            if person.position is not None and person.details != found:
                self._warn_details(row, person, found)
            # Equal details share one object: the ledger may hold many persons.
            person.details = person.written if person.written == found else found
            person.position = row.position
            touched[id(person)] = person
            chosen.append(person)
        self._create(created)
        self.ledger.save(touched.values())
        return chosen

    def finish(self) -> None:
        """Write the stored debtors whose details changed; count what happened to debtors."""
        if self.write:
            for chunk in self.ledger.pending():
                self.update.update("id", chunk)
        created, updated, unchanged = self.ledger.counts()
        counts = self.report.debtors
        counts.add("created", created)
        counts.add("updated", updated)
        counts.add("unchanged", unchanged)

    def _candidates(
        self,
        keyed: Sequence[tuple[ClaimRow, DebtorKey]],
        stored: dict[str, StoredDebtor],
        anchors: dict[str, int],
    ) -> dict[DebtorKey, list[Person]]:
        """Return, per key of the batch, every person it may be: met before or stored."""
        pool = self.ledger.met({key for _, key in keyed})
        known = {person.id for group in pool.values() for person in group}
        others: dict[DebtorKey, dict[int, Details]] = {}
        loose: set[DebtorKey] = set()
        for row, key in keyed:
            if row.reference in anchors:
                debtor_id, _, old = stored[row.reference]
                others.setdefault(key, {})[debtor_id] = old
            else:
                loose.add(key)
        # A claim not stored yet may be anyone of its key: every stored debtor is looked up.
        for key, found in find_debtors(self.select, loose).items():
            for debtor_id, old in found:
                others.setdefault(key, {})[debtor_id] = old
        for key, by_id in others.items():
            fresh = [
                Person(debtor_id, key, old, old, None, new=False)
                for debtor_id, old in by_id.items()
                if debtor_id not in known
            ]
            if fresh:
                group = pool.setdefault(key, [])
                group += fresh
                group.sort(key=met_order)
        return pool

    def _create(self, created: list[Person]) -> None:
        """Give new persons their ids and insert them (a dry run only numbers them)."""
        if not created:
            return
        if not self.write:
            for person in created:
                self.stand_in -= 1
                person.id = self.stand_in
            return
        for person, debtor_id in zip(created, self._debtor_ids(len(created)), strict=True):
            person.id = debtor_id
            person.written = person.details
        self.insert.insert([(p.id, *p.key, *p.details) for p in created])

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

    def _name(self, person: Person) -> str:
        """Name a person in a message by row, never by personal data."""
        if person.position is None:
            return f"stored debtor {person.id}"
        return self.entry_name(person.position, None)

    def _warn_apart(self, row: ClaimRow, found: Details, others: Sequence[Person]) -> None:
        """Report a debtor kept apart from others of the same name and date of birth."""
        if not others:
            return
        names = [self._name(p) for p in others[:_NAMED]]
        if len(others) > _NAMED:
            names.append(f"{len(others) - _NAMED} more")
        where = self.entry_name(row.position, {"reference": row.reference})
        if any(same_facts(p.details, found) for p in others):
            # Only an anchored claim gets here: its stored debtor is another than theirs.
            why = "already stored as another debtor"
        else:
            why = f"no {fact_list(FACTS, 'or')} in common"
        self.report.warn(
            f"{where}: debtor: same name and date of birth as {' and '.join(names)} but {why}; "
            "kept as two debtors"
        )

    def _warn_details(self, row: ClaimRow, person: Person, found: Details) -> None:
        """Report a person met again with other details (real data, not an error)."""
        old = person.details
        changed = ", ".join(
            FACT_NAMES.get(name, name)
            for name in Details._fields
            if getattr(old, name) != getattr(found, name)
        )
        agreed = same_facts(old, found)
        why = f"the same {fact_list(agreed, 'and')}" if agreed else "its claim stored with it"
        where = self.entry_name(row.position, {"reference": row.reference})
        self.report.warn(
            f"{where}: debtor: same name and date of birth as {self._name(person)} but another "
            f"{changed}; one debtor kept ({why}), with the later details"
        )
