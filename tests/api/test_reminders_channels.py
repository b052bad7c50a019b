"""Reminders on each channel: a WhatsApp template and an SMS through the Twilio stand-in,
an e-mail through a local SMTP server (aiosmtpd) with its unsubscribe link, in German
and English; `quitt reminders run --now`; and the sweeper inside the gateway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api.cli import main as cli_main
from api.db import get_session
from api.main import create_app
from api.reminders import optout
from domain.claims.models import Debtor
from domain.config import get_settings
from domain.conversations import service as conversation_service
from domain.conversations.models import Conversation, Message
from domain.db import make_engine, session_scope
from domain.db.core import get_engine
from domain.reminders.models import ReminderOptOut
from domain.whatsapp.models import WhatsAppContact
from policy.config import DEFAULT_POLICY
from policy.contact import may_contact
from tests.api.reminders_support import (
    EMILY,
    EMILY_PHONE,
    JANA,
    JANA_EMAIL,
    JANA_PHONE,
    PUBLIC_URL,
    SMS_FROM,
    MailServer,
    berlin,
    make_promise,
    reminder_audit,
    reminders,
    settings_for,
    sqlite_copy,
    sweep,
)
from tests.support.twilio_standin import TwilioStandIn

WHATSAPP = f"whatsapp:{JANA_PHONE}"
OUR_WHATSAPP = "whatsapp:+4930123456789"


@pytest.fixture
def db(reminders_template_db: Path, tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database with the demo claims (channels do not depend on the database)."""
    engine = make_engine(sqlite_copy(reminders_template_db, tmp_path))
    yield engine
    engine.dispose()


def _debtor_id(engine: Engine, phone: str) -> int:
    with session_scope(engine) as db_session:
        debtor_id = db_session.scalar(select(Debtor.id).where(Debtor.phone == phone))
        assert debtor_id is not None
        return debtor_id


def _whatsapp_conversation(engine: Engine, *, language: str = "de") -> None:
    """Jana wrote on WhatsApp and passed the identity check there."""
    jana = _debtor_id(engine, JANA_PHONE)
    with session_scope(engine) as db_session:
        conversation_service.get_or_create(
            db_session=db_session, sender_id=WHATSAPP, channel="whatsapp", language=language
        )
        conversation_service.mark_verified(
            db_session=db_session, sender_id=WHATSAPP, claim_reference=JANA, debtor_id=jana
        )
        db_session.get(Conversation, WHATSAPP).last_message_at = datetime(  # type: ignore[union-attr]
            2026, 11, 2, 9, tzinfo=UTC
        )
        db_session.add(
            WhatsAppContact(
                address=WHATSAPP,
                our_address=OUR_WHATSAPP,
                last_inbound_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
            )
        )


# --- WhatsApp -----------------------------------------------------------------------------


def test_whatsapp_gets_the_approved_template_through_the_standin(
    db: Engine, standin: TwilioStandIn
) -> None:
    _whatsapp_conversation(db)
    make_promise(db, conversation_id=WHATSAPP)
    report = sweep(db, settings_for(standin), berlin(12, 18, 10))
    assert report.channels == {"whatsapp": 1}

    [message] = standin.messages
    assert (message["To"], message["From"]) == (WHATSAPP, OUR_WHATSAPP)
    assert "Body" not in message  # a template: ContentSid and ContentVariables only
    assert message["ContentSid"] == "HX000000000000000000000000000b0de1"
    assert json.loads(message["ContentVariables"]) == {
        "1": "Quitt Inkasso GmbH",
        "2": "50,00\xa0€",
        "3": "21.12.2026",
        "4": "Quitt Inkasso GmbH (Testkonto), IBAN DE89 3704 0044 0532 0130 00",
        "5": "260000117",
    }
    # The agents see it in the conversation; the debtor's last message time stays.
    with session_scope(db) as db_session:
        [line] = db_session.scalars(select(Message).where(Message.conversation_id == WHATSAPP))
        conversation = db_session.get(Conversation, WHATSAPP)
        assert conversation is not None
        assert conversation.last_message_at == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert (line.author, line.direction) == ("system", "out")
    assert line.text.startswith("Guten Tag, hier ist Quitt Inkasso GmbH. Zur Erinnerung:")
    assert "Ihre vereinbarte Zahlung von 50,00\xa0€ ist am 21.12.2026 fällig" in line.text
    assert line.data is not None and line.data["reminder"]["kind"] == "before_due"
    [event] = reminder_audit(db)
    assert (event.kind, event.conversation_id) == ("reminder_sent", WHATSAPP)


def test_whatsapp_after_a_miss_in_english_offers_a_new_plan(
    db: Engine, standin: TwilioStandIn
) -> None:
    _whatsapp_conversation(db, language="en")
    make_promise(db, conversation_id=WHATSAPP)
    assert sweep(db, settings_for(standin), berlin(12, 22, 10)).sent == 1
    [message] = standin.messages
    assert message["ContentSid"] == "HX000000000000000000000000000a0e01"
    assert json.loads(message["ContentVariables"])["2"] == "€50.00"
    assert json.loads(message["ContentVariables"])["3"] == "21 December 2026"
    with session_scope(db) as db_session:
        text = db_session.scalars(select(Message.text)).one()
    assert "We have not yet received your payment of €50.00, due on 21 December 2026" in text
    assert "If you have already paid, thank you" in text
    assert "a new payment plan" in text


def test_a_whatsapp_number_never_verified_gets_no_template(
    db: Engine, standin: TwilioStandIn
) -> None:
    # Someone wrote from Jana's number but never passed the check: no amount goes there.
    with session_scope(db) as db_session:
        conversation_service.get_or_create(
            db_session=db_session, sender_id=WHATSAPP, channel="whatsapp"
        )
        db_session.add(
            WhatsAppContact(
                address=WHATSAPP,
                our_address=OUR_WHATSAPP,
                last_inbound_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
            )
        )
    make_promise(db, conversation_id=WHATSAPP)
    assert sweep(db, settings_for(standin), berlin(12, 18, 10)).channels == {"sms": 1}
    assert standin.messages[0]["To"] == JANA_PHONE


# --- SMS ----------------------------------------------------------------------------------


def test_sms_in_english_for_an_english_debtor(db: Engine, standin: TwilioStandIn) -> None:
    make_promise(db, EMILY, [("62.50", date(2026, 12, 21)), ("62.49", date(2027, 1, 21))])
    assert sweep(db, settings_for(standin), berlin(12, 18, 10)).sent == 1
    [message] = standin.messages
    assert (message["To"], message["From"]) == (EMILY_PHONE, SMS_FROM)
    assert message["Body"] == (
        "Quitt Inkasso GmbH: A friendly reminder. Your 1st instalment of €62.50 is due on "
        "21 December 2026. Please transfer it to Quitt Inkasso GmbH (Testkonto), IBAN DE89 "
        "3704 0044 0532 0130 00, reference 260000141. Questions? https://quitt.example/ "
        "No more reminders: STOP"
    )


# --- e-mail -------------------------------------------------------------------------------


def test_email_through_a_local_smtp_server_and_its_unsubscribe_link(
    db: Engine, mail_server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_promise(db, schedule=[("1234.56", date(2026, 12, 21)), ("50.00", date(2027, 1, 21))])
    settings = settings_for(mail=mail_server)
    assert sweep(db, settings, berlin(12, 18, 10)).channels == {"email": 1}

    [mail] = mail_server.inbox.messages
    assert mail_server.inbox.envelopes == [("erinnerung@quitt.example", [JANA_EMAIL])]
    assert mail["To"] == JANA_EMAIL
    assert mail["From"] == "Quitt Inkasso <erinnerung@quitt.example>"
    assert mail["Subject"] == "Zahlungserinnerung: 1.234,56\xa0€ fällig am 21.12.2026"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == "de"
    assert mail["Message-ID"].endswith("@quitt.example>")
    body = mail.get_content().replace("\r\n", "\n")
    assert "wir möchten Sie freundlich daran erinnern: Ihre 1. Rate von 1.234,56\xa0€" in body
    for line in (
        "Empfänger: Quitt Inkasso GmbH (Testkonto)",
        "IBAN: DE89 3704 0044 0532 0130 00",
        "BIC: COBADEFFXXX",
        "Betrag: 1.234,56\xa0€",
        "Verwendungszweck: 260000117",
    ):
        assert line in body
    assert f"{PUBLIC_URL}/pay/agreement/" in body
    [row] = reminders(db)
    assert row.external_id == mail["Message-ID"]

    # The unsubscribe link: one click in the mail client (RFC 8058), or the page's button.
    link = mail["List-Unsubscribe"].strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in body and link.startswith(f"{PUBLIC_URL}/reminders/unsubscribe/")
    path = link.removeprefix(PUBLIC_URL)
    app = create_app()

    def session() -> Iterator[object]:
        with session_scope(db, immediate=False) as db_session:
            yield db_session

    app.dependency_overrides[get_session] = session
    client = TestClient(app)
    page = client.get(path)
    assert page.status_code == 200 and "Abmelden / Unsubscribe" in page.text
    assert client.get(path[:-2] + "aa").status_code == 404
    with session_scope(db) as db_session:
        assert db_session.scalars(select(ReminderOptOut)).all() == []  # GET changes nothing
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "abgemeldet" in answer.text
    assert client.post(path).status_code == 200  # twice is fine
    with session_scope(db) as db_session:
        [opt_out] = db_session.scalars(select(ReminderOptOut)).all()
        assert opt_out.channel == "email"

    # The next reminder (after a miss) is not sent.
    report = sweep(db, settings, berlin(12, 22, 10))
    assert (report.sent, report.skipped) == (0, 1)
    assert len(mail_server.inbox.messages) == 1
    kinds = [e.kind for e in reminder_audit(db)]
    assert kinds == ["reminder_sent", "reminder_opt_out", "reminder_skipped"]


def test_email_after_a_miss_in_english(db: Engine, mail_server: MailServer) -> None:
    make_promise(db, EMILY, [("80.00", date(2026, 12, 21))], kind="full")
    assert sweep(db, settings_for(mail=mail_server), berlin(12, 22, 10)).sent == 1
    [mail] = mail_server.inbox.messages
    assert mail["Subject"] == "Your payment due on 21 December 2026: let's find a way together"
    body = mail.get_content().replace("\r\n", "\n")
    assert body.startswith("Hello,\n\nYour payment of €80.00, due on 21 December 2026,")
    assert "a new payment plan that suits you" in body
    assert "Amount: €80.00" in body


def test_a_refused_recipient_fails_and_is_not_retried(db: Engine, mail_server: MailServer) -> None:
    make_promise(db)
    mail_server.inbox.refuse = "550 5.1.1 No such user"
    report = sweep(db, settings_for(mail=mail_server), berlin(12, 18, 10))
    assert (report.sent, report.failed) == (0, 1)
    [row] = reminders(db)
    assert (row.state, row.last_error) == ("failed", "smtp_recipient_refused")


def test_no_mail_server_yet_is_retried(db: Engine) -> None:
    make_promise(db)
    settings = settings_for(smtp_host="127.0.0.1", smtp_port=9, smtp_security="none")
    report = sweep(db, settings, berlin(12, 18, 10))
    assert report.retried == 1
    assert reminders(db)[0].last_error == "smtp_unreachable"


def test_unsubscribe_tokens_are_signed() -> None:
    settings = settings_for()
    token = optout.make_token(settings, 42)
    assert optout.read_token(settings, token) == 42
    middle = len(token) // 2  # (the last character may carry only padding bits)
    forged = token[:middle] + ("a" if token[middle] != "a" else "b") + token[middle + 1 :]
    assert optout.read_token(settings, forged) is None
    assert optout.read_token(settings_for(secret_key="another-secret-" + "x" * 32), token) is None
    assert optout.read_token(settings, "not-a-token") is None


# --- the command line and the gateway's own timer -------------------------------------------


def _use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def env(
    reminders_template_db: Path,
    tmp_path: Path,
    standin: TwilioStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """Point the settings at a fresh database and the stand-in, as a process would read them."""
    url = sqlite_copy(reminders_template_db, tmp_path)
    _use(
        monkeypatch,
        {
            "QUITT_DATABASE_URL": url,
            "QUITT_ENVIRONMENT": "test",
            "QUITT_PUBLIC_URL": PUBLIC_URL,
            "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
            "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
            "QUITT_TWILIO_API_BASE": standin.base_url,
            "QUITT_SMS_FROM": SMS_FROM,
            "QUITT_SENTIMENT_BACKEND": "off",
            "QUITT_STT_BACKEND": "off",
        },
    )
    monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    monkeypatch.delenv("QUITT_SMTP_HOST", raising=False)
    yield url
    _use(monkeypatch, {})


def test_quitt_reminders_run_with_a_clock(
    env: str, standin: TwilioStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(env)
    try:
        make_promise(engine)
    finally:
        engine.dispose()
    assert cli_main(["reminders", "run", "--now", "2026-12-20T12:00"]) == 0  # a Sunday
    assert "1 planned, 0 sent, 1 waiting" in capsys.readouterr().out
    assert standin.messages == []
    assert cli_main(["reminders", "run", "--now", "2026-12-21T08:00:00+01:00"]) == 0
    assert "0 planned, 1 sent (sms 1)" in capsys.readouterr().out
    assert cli_main(["reminders", "run", "--now", "2026-12-21T09:00"]) == 0
    assert "0 sent" in capsys.readouterr().out
    assert len(standin.messages) == 1
    assert JANA_PHONE not in capsys.readouterr().err


def test_the_gateway_sweeps_on_its_own_timer(
    env: str, standin: TwilioStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real clock: a payment due tomorrow, so its before-due reminder is due now.
    now = datetime.now(UTC)
    tomorrow = now.astimezone(ZoneInfo("Europe/Berlin")).date() + timedelta(days=1)
    engine = make_engine(env)
    try:
        make_promise(engine, schedule=[("50.00", tomorrow)], kind="full")
    finally:
        engine.dispose()
    _use(monkeypatch, {"QUITT_REMINDERS_SWEEP": "true", "QUITT_REMINDERS_INTERVAL_SECONDS": "1"})
    with TestClient(create_app()) as client:
        assert client.app.state.reminders is not None  # type: ignore[attr-defined]
        engine = make_engine(env)
        try:
            deadline = time.monotonic() + 20
            rows = reminders(engine)
            while not (rows and rows[0].state != "sending") and time.monotonic() < deadline:
                time.sleep(0.1)
                rows = reminders(engine)
        finally:
            engine.dispose()
    [row] = rows
    if may_contact(at=datetime.now(UTC), policy=DEFAULT_POLICY).allowed:
        assert row.state == "sent" and len(standin.messages_to(JANA_PHONE)) == 1
    else:  # outside contact hours as this test runs: it waits for the next allowed moment
        assert row.state == "pending" and standin.messages == []
        assert row.next_attempt_at > now


def test_tests_do_not_sweep_unless_asked(env: str) -> None:
    with TestClient(create_app()) as client:
        assert client.app.state.reminders is None  # type: ignore[attr-defined]
