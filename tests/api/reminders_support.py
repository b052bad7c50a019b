"""Fixtures and factories of the reminder tests: committed databases, the stand-ins, promises.

The outbox commits in short transactions of its own (as several gateway processes
would), so these tests cannot use the rolled-back `db_session`: each test gets a fresh
migrated database instead, a copy of a migrated SQLite file or a new PostgreSQL schema,
with the demo claims in it. Outside systems are real-but-local: the Twilio stand-in of
the WhatsApp tests and an aiosmtpd server.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from api.db.migrate import upgrade
from api.reminders.channels import Senders
from api.reminders.sweeper import SweepReport, run_once
from domain.audit.models import AuditEvent
from domain.claims import service as claim_service
from domain.config import ROOT, Settings
from domain.db import make_engine, session_scope
from domain.promises import service as promise_service
from domain.promises.models import Promise
from domain.reminders.models import Reminder
from policy.config import DEFAULT_POLICY, default_book
from tests.support.databases import sqlite_template
from tests.support.postgres import fresh_schema
from tests.support.twilio_standin import TwilioStandIn, running_standin

BERLIN = ZoneInfo("Europe/Berlin")
PUBLIC_URL = "https://quitt.example"
SMS_FROM = "+4930555000111"
BOOK = default_book()
D = Decimal
JANA, EMILY = "260000117", "260000141"
JANA_PHONE, EMILY_PHONE = "+4915112345678", "+4915255566677"
JANA_EMAIL = "jana.becker@example.de"
DISPUTED, INSOLVENT = "260000182", "260000190"
# Long before the clock of the tests: every promise here was made in early November.
PROMISED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def berlin(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """Return a Berlin wall-clock time (the fixed clock of these tests)."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


# --- databases --------------------------------------------------------------------------------


def seed(engine: Engine) -> None:
    """Import the demo claims."""
    data = json.loads((ROOT / "data" / "demo_claims.json").read_text(encoding="utf-8"))
    with session_scope(engine) as db_session:
        claim_service.import_claims(db_session=db_session, data=data)


@pytest.fixture(scope="session")
def reminders_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a SQLite file once per session, with the demo claims in it."""
    return sqlite_template(tmp_path_factory.mktemp("reminders-template"), seed=seed)


def sqlite_copy(template: Path, folder: Path) -> str:
    """Return the URL of a fresh copy of the template database."""
    path = folder / f"quitt-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """Create a migrated PostgreSQL schema with the demo claims; drop it afterwards."""
    with fresh_schema("quitt_reminders") as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            seed(engine)
        finally:
            engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outbox_url(request: pytest.FixtureRequest, reminders_template_db: Path, tmp_path: Path) -> str:
    """Return the URL of a fresh database with the demo claims: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_copy(reminders_template_db, tmp_path)
    return str(request.getfixturevalue("postgres_schema"))


@pytest.fixture
def outbox_engine(outbox_url: str) -> Iterator[Engine]:
    """Return an engine on the test's own database."""
    engine = make_engine(outbox_url)
    yield engine
    engine.dispose()


# --- stand-ins --------------------------------------------------------------------------------


@pytest.fixture
def standin() -> Iterator[TwilioStandIn]:
    """Run a Twilio stand-in for one test."""
    with running_standin() as running:
        yield running


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: str | None = None  # an SMTP reply to refuse every recipient with

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MailServer:
    """A running aiosmtpd server and its inbox."""

    host: str
    port: int
    inbox: Inbox


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    """Run a local SMTP server (aiosmtpd) for one test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield MailServer("127.0.0.1", controller.port, inbox)
    finally:
        controller.stop()


def settings_for(
    standin: TwilioStandIn | None = None,
    mail: MailServer | None = None,
    *,
    sms: bool = True,
    **changes: Any,
) -> Settings:
    """Return settings that send through the stand-ins (only the channels given)."""
    values: dict[str, Any] = {
        "environment": "test",
        "public_url": PUBLIC_URL,
        "reminders_batch_size": 3,
    }
    if standin is not None:
        values |= {
            "twilio_account_sid": standin.account_sid,
            "twilio_auth_token": standin.auth_token,
            "twilio_api_base": standin.base_url,
            "sms_from": SMS_FROM if sms else None,
        }
    else:
        values |= {"twilio_account_sid": None, "twilio_auth_token": None, "sms_from": None}
    if mail is not None:
        values |= {"smtp_host": mail.host, "smtp_port": mail.port, "smtp_security": "none"}
    else:
        values |= {"smtp_host": None}
    return Settings(_env_file=None, **(values | changes))  # type: ignore[call-arg]


# --- data -------------------------------------------------------------------------------------


def make_promise(
    engine: Engine,
    reference: str = JANA,
    schedule: list[tuple[str, date]] | None = None,
    *,
    kind: str = "instalment_plan",
    conversation_id: str | None = None,
    promised_at: datetime = PROMISED_AT,
) -> int:
    """Record a promise (instalments as (amount, due date) pairs) made long ago."""
    schedule = schedule or [("50.00", date(2026, 12, 21)), ("50.00", date(2027, 1, 21))]
    instalments = [(n, D(amount), due) for n, (amount, due) in enumerate(schedule, 1)]
    with session_scope(engine) as db_session:
        promise = promise_service.create(
            db_session=db_session,
            claim_references=[reference],
            kind=kind,
            amount=sum((amount for _, amount, _ in instalments), D("0.00")),
            due_date=instalments[0][2],
            instalments=instalments if kind == "instalment_plan" else (),
            channel="web",
            conversation_id=conversation_id,
            policy_version=DEFAULT_POLICY.version,
            idempotency_key=None,
        )
        promise.created_at = promised_at
        return promise.id


def sweep(
    engine: Engine, settings: Settings, now: datetime, senders: Senders | None = None
) -> SweepReport:
    """Run one sweep at `now` with fresh channels (closed afterwards)."""

    async def once() -> SweepReport:
        own = senders or Senders.from_settings(settings)
        try:
            return await run_once(
                now=now, senders=own, settings=settings, policies=BOOK, engine=engine
            )
        finally:
            if senders is None:
                await own.aclose()

    return asyncio.run(once())


def reminders(engine: Engine) -> list[Reminder]:
    """Return every outbox row, by id."""
    with session_scope(engine) as db_session:
        return list(db_session.scalars(select(Reminder).order_by(Reminder.id)))


def reminder_audit(engine: Engine) -> list[AuditEvent]:
    """Return the reminders' audit entries, in order."""
    with session_scope(engine) as db_session:
        return list(
            db_session.scalars(
                select(AuditEvent).where(AuditEvent.kind.like("reminder_%")).order_by(AuditEvent.id)
            )
        )


def promise_of(engine: Engine, promise_id: int) -> Promise:
    """Return a promise with its instalments loaded."""
    with session_scope(engine) as db_session:
        promise = db_session.get(Promise, promise_id)
        assert promise is not None
        list(promise.instalments)
        return promise
