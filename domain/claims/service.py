"""Claims: look-ups and the all-or-nothing, idempotent import of claims files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.claims import files, importer
from domain.claims.jsonfile import document_source
from domain.claims.models import Claim
from domain.claims.report import Counts, ImportReport

__all__ = [
    "Counts",
    "ImportReport",
    "count_claims",
    "get_by_reference",
    "import_claims",
    "import_file",
    "list_for_debtor",
]


def get_by_reference(*, db_session: Session, reference: str) -> Claim | None:
    """Get a claim by its reference."""
    return db_session.get(Claim, reference)


def list_for_debtor(*, db_session: Session, debtor_id: int) -> list[Claim]:
    """List a debtor's claims, oldest due date first."""
    stmt = (
        select(Claim).where(Claim.debtor_id == debtor_id).order_by(Claim.due_date, Claim.reference)
    )
    return list(db_session.scalars(stmt))


def count_claims(*, db_session: Session) -> int:
    """Count all stored claims."""
    return db_session.scalar(select(func.count()).select_from(Claim)) or 0


def import_claims(*, db_session: Session, data: Any, dry_run: bool = False) -> ImportReport:
    """Import a parsed `quitt-claims/1` document: validate all, then write all or nothing."""
    return importer.run_import(db_session=db_session, source=document_source(data), dry_run=dry_run)


def import_file(
    *,
    db_session: Session,
    path: str | Path,
    creditors_path: str | Path | None = None,
    dry_run: bool = False,
    on_progress: importer.Progress | None = None,
) -> ImportReport:
    """Import a claims file from disk: `quitt-claims/1` JSON or CSV, streamed.

    `creditors_path` names a file of creditors to import first (for CSV, whose rows
    only name their creditor): a `quitt-claims/1` file without claims, or a CSV file
    with the columns `id`, `name`, `address` and optionally `policy`.
    """
    creditors = files.read_creditors(Path(creditors_path)) if creditors_path else []
    source = files.open_claims(Path(path), creditors)
    return importer.run_import(
        db_session=db_session, source=source, dry_run=dry_run, on_progress=on_progress
    )
