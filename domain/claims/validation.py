"""Validate the claims of a source a batch at a time, naming each problem's claim and field."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

from pydantic import ValidationError

from domain.claims.report import MAX_REPORTED_LINES
from domain.claims.rows import ClaimRow, claim_row
from domain.claims.schemas import ClaimIn
from domain.claims.source import ClaimSource, RawClaim, pydantic_messages


@dataclass
class Checked:
    """One batch after validation: the valid rows and what was wrong with the others."""

    rows: list[ClaimRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the first few of this batch
    error_count: int = 0  # all of this batch
    read: int = 0  # claims read so far, this batch included
    bytes_read: int = 0


class RowChecks:
    """Validate claims one by one (schema and creditor) into the current batch."""

    def __init__(self, source: ClaimSource, creditor_ids: set[str]) -> None:
        self.source = source
        self.creditor_ids = creditor_ids
        self.batch = Checked()

    def error(self, message: str) -> None:
        """Record one problem of the current batch."""
        self.batch.error_count += 1
        if len(self.batch.errors) < MAX_REPORTED_LINES:
            self.batch.errors.append(message)

    def claim(self, raw: RawClaim) -> None:
        """Validate one claim: add its row to the batch, or its problems."""
        try:
            claim = ClaimIn.model_validate(raw.data)
        except ValidationError as exc:
            self._refuse(raw, exc)
            return
        if raw.problems:
            self._refuse(raw, None)
        elif claim.creditor not in self.creditor_ids:
            where = self.source.entry_name(raw.position, raw.data)
            self.error(f"{where}: creditor: unknown creditor {claim.creditor!r}")
        else:
            self.batch.rows.append(claim_row(raw.position, claim))

    def _refuse(self, raw: RawClaim, exc: ValidationError | None) -> None:
        """Record the reader's problems and pydantic's errors, once per field."""
        where = self.source.entry_name(raw.position, raw.data)
        for name, message in raw.problems:
            self.error(f"{where}: {name}: {message}")
        if exc is None:
            return
        named = {name for name, _ in raw.problems}
        for line in pydantic_messages(exc, where, self.source.field_name):
            name = line.removeprefix(f"{where}: ").split(":", 1)[0]
            if name in named:
                continue
            if name in raw.written:  # quote the cell as written, not as the reader read it
                line = line.replace(repr(raw.data.get(name)), repr(raw.written[name]))
            self.error(line)


def checked_batches(
    source: ClaimSource, creditor_ids: set[str], batch_size: int
) -> Generator[Checked, None, None]:
    """Read and validate the source's claims, yielding a batch every `batch_size` claims."""
    checks = RowChecks(source, creditor_ids)
    read = 0
    for raw in source.claims:
        read += 1
        checks.claim(raw)
        if read % batch_size == 0:
            yield _done(checks, read)
    yield _done(checks, read, source.size)


def _done(checks: RowChecks, read: int, bytes_read: int | None = None) -> Checked:
    """Hand over the current batch and start the next."""
    batch, checks.batch = checks.batch, Checked()
    batch.read = read
    batch.bytes_read = checks.source.bytes_read() if bytes_read is None else bytes_read
    return batch
