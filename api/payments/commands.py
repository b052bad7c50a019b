"""`quitt payments import PATH` and `quitt payments sweep` (for a daily timer)."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.config import get_settings
from domain.db import session_scope
from domain.payments import service as payment_service
from domain.payments.sweep import sweep


def _today(args: argparse.Namespace) -> date:
    """Return `--today`, else today's date in the service's time zone."""
    given: date | None = args.today
    return given or datetime.now(ZoneInfo(get_settings().timezone)).date()


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _import(args: argparse.Namespace) -> int:
    """Import a statement file and print what it did."""
    with session_scope() as db_session:
        report = payment_service.import_file(
            db_session=db_session, path=args.path, today=_today(args)
        )
    print(report)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """Run the status sweep and print what changed."""
    with session_scope() as db_session:
        report = sweep(
            db_session=db_session, today=_today(args), policies=payment_service.policies()
        )
    print(report)
    return 0


def register(subparsers: Any) -> None:
    """Add the `payments` subcommands."""
    payments = subparsers.add_parser("payments", help="payments in: bank statements")
    actions = payments.add_subparsers(dest="payments_command", metavar="ACTION", required=True)
    importer = actions.add_parser(
        "import",
        help="import a bank statement (camt.053 XML or CSV)",
        description=(
            "Import a bank statement, all or nothing: ISO 20022 camt.053 XML (any version, "
            "e.g. .001.02 or .001.08) or CSV with the columns booking_date, amount, remittance, "
            "payer, transaction_id (';' or ',', decimal comma or point, UTF-8 or Windows-1252). "
            "Booked credits are matched to claims by the reference in the remittance text "
            "(typos tolerated, the amount breaks ties) and allocated oldest instalment first; "
            "debits are left out. Each bank transaction is imported once. Then the status sweep "
            "runs."
        ),
    )
    importer.add_argument("path", help="the statement file (.xml or .csv)")
    importer.add_argument(
        "--today", type=_day, default=None, help="the sweep's date (default: today)"
    )
    importer.set_defaults(handler=_import)
    sweeper = actions.add_parser(
        "sweep",
        help="mark instalments and promises kept or broken, claims paid (run daily)",
        description=(
            "Mark instalments and promises kept when payments cover them, broken when still "
            "short after the creditor policy's broken_promise_grace_days, and open claims "
            "paid when nothing is owed. Meant for a daily cron job or systemd timer."
        ),
    )
    sweeper.add_argument("--today", type=_day, default=None, help="the date to sweep for")
    sweeper.set_defaults(handler=_sweep)
