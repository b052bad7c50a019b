"""`quitt claims import PATH [--creditors FILE] [--dry-run] [--if-empty]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from domain.claims import importer
from domain.claims import service as claim_service
from domain.db import session_scope


@contextmanager
def progress_bar() -> Iterator[importer.Progress | None]:
    """Show the import's progress on a terminal (stderr); nothing when it is not one.

    The bar (and its refresh thread) starts with the first batch: a large file is
    validated by a forked child, and a fork is better made with no other thread about.
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    columns = (
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[claims]:,} claims"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=console, transient=True)
    task = progress.add_task("import", total=None, claims=0)

    def advance(done: int, size: int, claims: int) -> None:
        progress.update(task, completed=done, total=size or None, claims=claims)
        if not progress.live.is_started:
            progress.start()

    try:
        yield advance
    finally:
        progress.stop()


def _import(args: argparse.Namespace) -> int:
    """Import a claims file and print what changed (or would change)."""
    # A dry run only reads: on SQLite it need not take the write lock.
    with session_scope(immediate=not args.dry_run) as db_session:
        if args.if_empty and claim_service.count_claims(db_session=db_session) > 0:
            print("claims already present; nothing imported (--if-empty)", file=sys.stderr)
            return 0
        with progress_bar() as on_progress:
            report = claim_service.import_file(
                db_session=db_session,
                path=args.path,
                creditors_path=args.creditors,
                dry_run=args.dry_run,
                on_progress=on_progress,
            )
    print(report)
    return 0


def register(subparsers: Any) -> None:
    """Add the `claims` subcommands."""
    claims = subparsers.add_parser("claims", help="claims data")
    actions = claims.add_subparsers(dest="claims_command", metavar="ACTION", required=True)
    importer_parser = actions.add_parser(
        "import",
        help="import claims from a quitt-claims/1 JSON file or a CSV file",
        description=(
            "Import claims, all or nothing: a quitt-claims/1 JSON file, or CSV as spreadsheets "
            "export it (';' or ',', decimal comma or point, dates DD.MM.YYYY or YYYY-MM-DD, "
            "UTF-8 or Windows-1252) with the columns reference, creditor, subject, "
            "contract_date, invoice_date, due_date, currency, principal, interest, fees, status, "
            "debtor_name, date_of_birth, postcode, phone, email, language. One person (name and "
            "date of birth) on several rows is one debtor with the last row's details (and a "
            "warning). Importing the same file again changes nothing."
        ),
    )
    importer_parser.add_argument("path", help="the claims file (.json or .csv)")
    importer_parser.add_argument(
        "--creditors",
        metavar="FILE",
        help="creditors to import first: a quitt-claims/1 file without claims, or CSV with "
        "the columns id, name, address and optionally policy, iban, bic, account_holder",
    )
    importer_parser.add_argument(
        "--dry-run", action="store_true", help="validate and report, write nothing"
    )
    importer_parser.add_argument(
        "--if-empty", action="store_true", help="import only when no claims are stored yet"
    )
    importer_parser.set_defaults(handler=_import)
