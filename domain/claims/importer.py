"""The all-or-nothing, idempotent claims import: read, check and write in one pass.

Claims stream from the reader in batches; each batch is validated and then
written, inside one savepoint of the caller's transaction (for a large file the
validation runs in a child process, a batch ahead of the writing). At the first
malformed claim the import stops writing but reads on, to name every problem
of the file, and then rolls the savepoint back: nothing of a rejected file is
written, and a valid file is read once. What spans claims (references read,
persons met) is kept in the import's ledger, so memory stays bounded whatever
the size of the file.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any, Final

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from domain.claims.bulk import BulkWriter
from domain.claims.ledger import Ledger
from domain.claims.models import Creditor
from domain.claims.parallel import CAN_FORK, checked_in_child
from domain.claims.report import MAX_REPORTED_LINES, ImportReport
from domain.claims.rows import ClaimRow
from domain.claims.source import ClaimSource, reject
from domain.claims.validation import checked_batches
from domain.db.columns import utcnow

BATCH_SIZE: Final = 2000
# Files from this size on are validated in a child process while this one writes.
PARALLEL_FROM_BYTES: Final = 1 << 20

# Called after each batch with (bytes read, bytes in all, claims read).
Progress = Callable[[int, int, int], None]
EntryName = Callable[[int, Any], str]


class _Errors:
    """The problems of the whole file: the first few word for word, and how many."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def add(self, lines: list[str], count: int | None = None) -> None:
        """Record problems (`count` of them, of which `lines` are the first)."""
        self.count += len(lines) if count is None else count
        self.lines += lines[: MAX_REPORTED_LINES - len(self.lines)]


def _duplicates(ledger: Ledger, rows: list[ClaimRow], name: EntryName) -> list[str]:
    """Name each claim whose reference was read before, in this batch or an earlier one."""
    errors = []
    first: dict[str, int] = {}
    for row in rows:
        earlier = first.setdefault(row.reference, row.position)
        if earlier != row.position:
            where = name(row.position, {"reference": row.reference})
            errors.append(f"{where}: reference: duplicate of {name(earlier, None)}")
    for reference, earlier in ledger.record_references(first).items():
        where = name(first[reference], {"reference": reference})
        errors.append(f"{where}: reference: duplicate of {name(earlier, None)}")
    return errors


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the length of an import.

    The ledger keeps some hundred thousand small objects alive; with the collector on,
    every full collection walks all of them again, which cost a fifth of the time of a
    100,000-claim import. Rows make no reference cycles; the little cyclic garbage the
    database layer leaves is collected once the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_import(
    *,
    db_session: Session,
    source: ClaimSource,
    dry_run: bool = False,
    on_progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import a claims source all or nothing; raise ValidationFailed naming every problem."""
    report = ImportReport(dry_run=dry_run)
    ledger = Ledger()
    db_session.flush()
    savepoint = db_session.begin_nested()
    try:
        with _collector_paused():
            _run(db_session.connection(), source, ledger, report, on_progress, batch_size)
    except BaseException:
        savepoint.rollback()
        source.close()
        raise
    finally:
        ledger.close()
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    # Rows changed behind the ORM's back: objects the caller holds must reload.
    db_session.expire_all()
    return report


def _run(
    connection: Connection,
    source: ClaimSource,
    ledger: Ledger,
    report: ImportReport,
    on_progress: Progress | None,
    batch_size: int,
) -> None:
    """Read, check and (while all is well) write the claims a batch at a time."""
    creditor_ids = set(connection.scalars(select(Creditor.id))) | {c.id for c in source.creditors}
    writer = BulkWriter(
        connection,
        report,
        ledger,
        write=not report.dry_run,
        now=utcnow(),
        entry_name=source.entry_name,
    )
    writer.write_creditors(source.creditors)
    if CAN_FORK and source.size >= PARALLEL_FROM_BYTES:
        batches = checked_in_child(source, creditor_ids, batch_size)
    else:
        batches = checked_batches(source, creditor_ids, batch_size)
    errors = _Errors()
    with closing(batches):  # on any error: close the file, or end the validating child
        for batch in batches:
            errors.add(batch.errors, batch.error_count)
            errors.add(_duplicates(ledger, batch.rows, source.entry_name))
            # After the first error nothing more is written, but every claim is still checked.
            if batch.rows and not errors.count:
                writer.write_batch(batch.rows)
            if on_progress is not None:
                on_progress(batch.bytes_read, source.size, batch.read)
    if errors.count:
        raise reject(errors.lines, errors.count)
    writer.finish()
