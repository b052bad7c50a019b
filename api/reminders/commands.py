"""`quitt reminders run [--now TIME]`: one sweep of the reminders outbox."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.reminders.channels import Senders
from api.reminders.sweeper import SweepReport, run_once
from domain.config import get_settings


def _when(text: str) -> datetime:
    """Read an ISO 8601 time; without an offset it is in QUITT_TIMEZONE."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return moment


async def _sweep(now: datetime) -> SweepReport:
    senders = Senders.from_settings(get_settings())
    try:
        return await run_once(now=now, senders=senders)
    finally:
        await senders.aclose()


def _run(args: argparse.Namespace) -> int:
    """Sweep once and print what happened."""
    now: datetime = args.now or datetime.now(UTC)
    print(asyncio.run(_sweep(now)))
    return 0


def register(subparsers: Any) -> None:
    """Add the `reminders` subcommands."""
    reminders = subparsers.add_parser("reminders", help="payment reminders: the outbox")
    actions = reminders.add_subparsers(dest="reminders_command", metavar="ACTION", required=True)
    runner = actions.add_parser(
        "run",
        help="plan and send the reminders that are due (the gateway also does it on a timer)",
        description=(
            "One sweep of the reminders outbox: plan the reminders whose moment has come "
            "(3 days before each due date, and the day after a miss), then send them by "
            "WhatsApp template, SMS or e-mail, inside contact hours and never after an "
            "opt-out, while a claim is disputed or in insolvency, or while an agent holds "
            "the debtor's conversation. Safe beside running gateways: each reminder goes "
            "out at most once."
        ),
    )
    runner.add_argument(
        "--now",
        type=_when,
        default=None,
        metavar="TIME",
        help="the sweep's clock, ISO 8601 (without an offset: QUITT_TIMEZONE); default: now",
    )
    runner.set_defaults(handler=_run)
