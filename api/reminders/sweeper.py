"""The sweep: plan, claim, decide, send and record, with the clock as a parameter.

`run_once(now=…)` is one sweep (what `quitt reminders run` does); `ReminderSweeper`
runs it every `QUITT_REMINDERS_INTERVAL_SECONDS` inside the gateway process, started
and stopped with the app. Database work runs in worker threads, each step in its own
short transaction; only the sending waits on the network, outside any transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Engine

from api.reminders import decision, outbox
from api.reminders.channels import SendError, Senders
from domain.config import Settings, get_settings
from domain.db import session_scope
from domain.payments import service as payment_service
from policy.config import PolicyBook

logger = logging.getLogger(__name__)
# Batches one sweep takes at most, so that a sweep ends even when rows keep coming due.
MAX_BATCHES: Final = 100
# How long a stopping gateway waits for a sweep under way.
STOP_GRACE_SECONDS: Final = 10.0


@dataclass
class SweepReport:
    """What one sweep did (counts only: no names, numbers or addresses)."""

    now: datetime
    planned: int = 0
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    channels: dict[str, int] = field(default_factory=dict)
    idle: bool = False  # no channel configured: nothing was done

    @property
    def busy(self) -> bool:
        """Tell whether the sweep did anything worth a log line."""
        return any(
            (self.planned, self.sent, self.skipped, self.retried, self.failed, self.recovered)
        )

    def __str__(self) -> str:
        if self.idle:
            return (
                "reminders: no channel configured (QUITT_TWILIO_ACCOUNT_SID and "
                "QUITT_TWILIO_AUTH_TOKEN, QUITT_SMS_FROM, QUITT_SMTP_HOST); nothing sent"
            )
        by_channel = ", ".join(f"{k} {v}" for k, v in sorted(self.channels.items()))
        return (
            f"reminders {self.now.isoformat(timespec='minutes')}: {self.planned} planned, "
            f"{self.sent} sent{f' ({by_channel})' if by_channel else ''}, {self.deferred} "
            f"waiting, {self.skipped} skipped, {self.retried} to retry, {self.failed} failed"
            + (f", {self.recovered} recovered" if self.recovered else "")
        )


async def run_once(
    *,
    now: datetime,
    senders: Senders,
    settings: Settings | None = None,
    policies: PolicyBook | None = None,
    engine: Engine | None = None,
    token: str | None = None,
) -> SweepReport:
    """Sweep the outbox once at `now` (timezone-aware): plan, then send what is due.

    With no channel configured at all nothing is planned: the reminders keep until one
    is (a debtor nobody can reach on a configured channel is skipped, and audited).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    settings = settings or get_settings()
    book = policies or payment_service.policies()
    token = token or outbox.new_token()
    report = SweepReport(now)
    if not senders.any_ready:
        report.idle = True
        return report

    def plan() -> tuple[int, int]:
        with session_scope(engine) as db_session:
            recovered = outbox.recover(db_session=db_session, policies=book)
        with session_scope(engine) as db_session:
            return outbox.plan(db_session=db_session, now=now, policies=book), recovered

    report.planned, report.recovered = await asyncio.to_thread(plan)
    for _ in range(MAX_BATCHES):

        def claim() -> list[int]:
            with session_scope(engine) as db_session:
                return outbox.claim(
                    db_session=db_session,
                    now=now,
                    limit=settings.reminders_batch_size,
                    token=token,
                )

        ids = await asyncio.to_thread(claim)
        if not ids:
            break
        for reminder_id in ids:
            await _one(reminder_id, now, token, senders, settings, book, engine, report)
    return report


async def _one(
    reminder_id: int,
    now: datetime,
    token: str,
    senders: Senders,
    settings: Settings,
    book: PolicyBook,
    engine: Engine | None,
    report: SweepReport,
) -> None:
    """Decide one claimed reminder and, if it may go, send it and record the outcome."""

    def prepare() -> outbox.Prepared | str:
        with session_scope(engine) as db_session:
            return decision.prepare(
                db_session=db_session,
                reminder_id=reminder_id,
                token=token,
                now=now,
                settings=settings,
                policies=book,
                senders=senders,
            )

    prepared = await asyncio.to_thread(prepare)
    if not isinstance(prepared, outbox.Prepared):
        if prepared == "skipped":
            report.skipped += 1
        elif prepared == "deferred":
            report.deferred += 1
        return
    try:
        external_id = await senders.send(prepared.message)
    except SendError as exc:
        error = exc
        logger.warning("reminder %s on %s not sent: %s", reminder_id, prepared.channel, error.code)

        def failed() -> str:
            with session_scope(engine) as db_session:
                return outbox.record_failed(
                    db_session=db_session,
                    prepared=prepared,
                    token=token,
                    error=error,
                    now=now,
                    max_attempts=settings.reminders_max_attempts,
                    policies=book,
                )

        outcome = await asyncio.to_thread(failed)
        if outcome == "retry":
            report.retried += 1
        elif outcome == "skipped":
            report.skipped += 1
        elif outcome == "failed":
            report.failed += 1
        return

    def sent() -> None:
        with session_scope(engine) as db_session:
            outbox.record_sent(
                db_session=db_session,
                prepared=prepared,
                token=token,
                external_id=external_id,
                policies=book,
            )

    await asyncio.to_thread(sent)
    report.sent += 1
    report.channels[prepared.channel] = report.channels.get(prepared.channel, 0) + 1


@dataclass
class ReminderSweeper:
    """The in-process timer: one sweep every interval, for the life of the app."""

    senders: Senders
    settings: Settings
    interval: float
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def start(self) -> None:
        """Start sweeping in the background."""
        self._task = asyncio.create_task(self._loop(), name="reminders-sweeper")

    async def stop(self) -> None:
        """Let a sweep under way finish (briefly), then stop and close the channels.

        A send cut by the deadline leaves its row `sending`; `recover` settles it.
        """
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=STOP_GRACE_SECONDS)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self.senders.aclose()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                report = await run_once(
                    now=datetime.now(UTC), senders=self.senders, settings=self.settings
                )
                if report.busy:
                    logger.info("%s", report)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The class only: database errors quote their parameters.
                logger.warning(
                    "reminder sweep failed (%s); next try in %.0f s",
                    type(exc).__name__,
                    self.interval,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)


def start(settings: Settings | None = None) -> ReminderSweeper | None:
    """Start the in-process sweeper unless the settings turn it off."""
    settings = settings or get_settings()
    if not settings.reminders_sweep_on:
        return None
    senders = Senders.from_settings(settings)
    if not senders.any_ready:
        logger.info("reminders: no channel configured, so none are sent (README: Reminders)")
    sweeper = ReminderSweeper(
        senders=senders,
        settings=settings,
        interval=max(settings.reminders_interval_seconds, 1.0),
    )
    sweeper.start()
    return sweeper
