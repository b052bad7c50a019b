"""The reminders outbox on SQLite and PostgreSQL, with a fixed clock and the Twilio stand-in.

Each test gets its own committed database with the demo claims (reminders_support);
the clock of the sweeps is December 2026: Friday 18th, Sunday 20th, Christmas on the
25th and 26th.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, update

from api.reminders import outbox
from domain.claims.models import Debtor
from domain.conversations import service as conversation_service
from domain.db import session_scope
from domain.disputes import service as dispute_service
from domain.disputes.models import Dispute
from domain.handoffs import service as handoff_service
from domain.promises.models import Instalment
from domain.reminders.models import Reminder, ReminderOptOut
from domain.whatsapp.models import WhatsAppContact
from tests.api.reminders_support import (
    BOOK,
    DISPUTED,
    INSOLVENT,
    JANA,
    JANA_PHONE,
    SMS_FROM,
    berlin,
    make_promise,
    reminder_audit,
    reminders,
    settings_for,
    sweep,
)
from tests.support.twilio_standin import TwilioStandIn


def _jana_id(engine: Engine) -> int:
    with session_scope(engine) as db_session:
        debtor_id = db_session.scalar(select(Debtor.id).where(Debtor.phone == JANA_PHONE))
        assert debtor_id is not None
        return debtor_id


def test_a_reminder_goes_out_once_three_days_before_inside_contact_hours(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine)  # 50.00 on 21 December and on 21 January
    settings = settings_for(standin)

    early = sweep(outbox_engine, settings, berlin(12, 18, 9, 59))
    assert (early.planned, early.sent) == (0, 0)
    report = sweep(outbox_engine, settings, berlin(12, 18, 10, 5))
    assert (report.planned, report.sent, report.channels) == (1, 1, {"sms": 1})
    again = sweep(outbox_engine, settings, berlin(12, 18, 16))
    assert (again.planned, again.sent) == (0, 0)

    [message] = standin.messages
    assert (message["To"], message["From"]) == (JANA_PHONE, SMS_FROM)
    body = message["Body"]
    assert "Ihre 1. Rate von 50,00\xa0€ ist am 21.12.2026 fällig" in body
    assert "IBAN DE89 3704 0044 0532 0130 00" in body
    assert "Verwendungszweck 260000117" in body
    assert "STOP" in body
    [row] = reminders(outbox_engine)
    assert (row.key, row.kind, row.state, row.channel, row.attempts) == (
        f"before_due:{row.promise_id}:1",
        "before_due",
        "sent",
        "sms",
        1,
    )
    assert row.external_id and row.external_id.startswith("SM")
    assert row.due_at == berlin(12, 18)
    [event] = reminder_audit(outbox_engine)
    assert (event.kind, event.claim_reference, event.reasons) == (
        "reminder_sent",
        JANA,
        ["reminder_allowed"],
    )
    assert event.policy_version == "default@2026-11-1"
    assert event.data is not None and event.data["channel"] == "sms"
    assert JANA_PHONE not in str(event.data)


def test_a_reminder_due_on_a_sunday_waits_for_monday_morning(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine, schedule=[("80.00", date(2026, 12, 23))], kind="full")
    settings = settings_for(standin)

    sunday = sweep(outbox_engine, settings, berlin(12, 20, 12))
    assert (sunday.planned, sunday.sent, sunday.deferred) == (1, 0, 1)
    [row] = reminders(outbox_engine)
    assert (row.key, row.state, row.reasons) == (
        f"before_due:{row.promise_id}:0",
        "pending",
        ["sunday"],
    )
    assert row.next_attempt_at == berlin(12, 21, 8)
    evening = sweep(outbox_engine, settings, berlin(12, 20, 22))
    assert (evening.sent, evening.deferred) == (0, 0)  # not looked at again before Monday
    assert standin.messages == []

    monday = sweep(outbox_engine, settings, berlin(12, 21, 8))
    assert monday.sent == 1
    [message] = standin.messages
    assert "Ihre Zahlung von 80,00\xa0€ ist am 23.12.2026 fällig" in message["Body"]


def test_a_reminder_planned_on_christmas_goes_on_the_next_working_day(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine, schedule=[("50.00", date(2026, 12, 28))], kind="full")
    settings = settings_for(standin)

    for moment in (berlin(12, 25, 10), berlin(12, 26, 12), berlin(12, 27, 12)):
        assert sweep(outbox_engine, settings, moment).sent == 0
    [row] = reminders(outbox_engine)
    assert row.reasons == ["public_holiday:Christmas Day"]
    assert row.next_attempt_at == berlin(12, 28, 8)
    assert sweep(outbox_engine, settings, berlin(12, 28, 8)).sent == 1
    assert len(standin.messages) == 1


def test_after_a_miss_a_supportive_reminder_the_day_after(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    promise_id = make_promise(outbox_engine)
    settings = settings_for(standin)

    report = sweep(outbox_engine, settings, berlin(12, 22, 10))
    # The before-due reminder's time has passed unswept: it is no longer worth sending.
    assert (report.planned, report.sent) == (1, 1)
    [row] = reminders(outbox_engine)
    assert row.key == f"after_miss:{promise_id}:1"
    body = standin.messages[0]["Body"]
    assert "Ihre 1. Rate von 50,00\xa0€, fällig am 21.12.2026, ist noch nicht bei uns" in body
    assert "Schon überwiesen? Dann danke!" in body
    assert "neuen Plan" in body
    for word in ("Mahnung", "Inkassoverfahren", "gerichtlich", "Konsequenz", "Schufa"):
        assert word not in body


def test_a_paid_instalment_gets_no_reminder_after_it(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    promise_id = make_promise(outbox_engine)
    settings = settings_for(standin)
    assert sweep(outbox_engine, settings, berlin(12, 18, 10)).sent == 1
    with session_scope(outbox_engine) as db_session:
        db_session.execute(
            update(Instalment)
            .where(Instalment.promise_id == promise_id, Instalment.number == 1)
            .values(status="kept")
        )
    report = sweep(outbox_engine, settings, berlin(12, 22, 10))
    assert (report.planned, report.sent) == (0, 0)
    assert len(standin.messages) == 1


def test_never_after_a_whatsapp_stop_or_an_opt_out(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        db_session.add(
            WhatsAppContact(
                address=f"whatsapp:{JANA_PHONE}",
                our_address="whatsapp:+4930123456789",
                last_inbound_at=datetime(2026, 11, 30, tzinfo=UTC),
                opted_out_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        )
    settings = settings_for(standin)

    report = sweep(outbox_engine, settings, berlin(12, 18, 10))
    assert (report.sent, report.skipped) == (0, 1)
    assert standin.messages == []
    [row] = reminders(outbox_engine)
    assert (row.state, row.reasons) == ("skipped", ["opted_out"])
    [event] = reminder_audit(outbox_engine)
    assert (event.kind, event.reasons) == ("reminder_skipped", ["opted_out"])

    # An opt-out of reminders (the e-mail's link, an SMS STOP) counts the same way.
    jana = _jana_id(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        contact = db_session.get(WhatsAppContact, f"whatsapp:{JANA_PHONE}")
        assert contact is not None
        contact.opted_out_at = None
        db_session.add(ReminderOptOut(debtor_id=jana, channel="email"))
    assert sweep(outbox_engine, settings, berlin(12, 22, 10)).skipped == 1
    assert standin.messages == []


def test_a_stop_said_before_an_erasure_still_stops_reminders(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    # Someone erased on request had said STOP on this number; the contact row is gone,
    # only the suppression entry (a keyed hash of the number) is left.
    from domain.whatsapp import suppression

    make_promise(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        suppression.keep(
            db_session=db_session,
            address=f"whatsapp:{JANA_PHONE}",
            opted_out_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
    report = sweep(outbox_engine, settings_for(standin), berlin(12, 18, 10))
    assert (report.sent, report.skipped) == (0, 1)
    assert standin.messages == []


def test_waits_while_disputed_and_goes_when_the_dispute_is_resolved(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        dispute_service.create(
            db_session=db_session,
            claim_reference=JANA,
            conversation_id="web-1",
            reason_text="Die Rechnung stimmt nicht",
        )
    settings = settings_for(standin)

    held = sweep(outbox_engine, settings, berlin(12, 18, 10))
    assert (held.sent, held.deferred) == (0, 1)
    [row] = reminders(outbox_engine)
    assert (row.state, row.reasons) == ("pending", ["claim_disputed"])
    assert reminder_audit(outbox_engine) == []
    with session_scope(outbox_engine) as db_session:
        db_session.execute(update(Dispute).values(status="resolved"))
    assert sweep(outbox_engine, settings, berlin(12, 18, 11)).sent == 1


def test_a_disputed_claim_waits_and_the_reminder_lapses_unsent(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine, DISPUTED, [("30.00", date(2026, 12, 21))], kind="full")
    settings = settings_for(standin)
    assert sweep(outbox_engine, settings, berlin(12, 18, 10)).deferred == 1
    report = sweep(outbox_engine, settings, berlin(12, 22, 9))  # the due date has passed
    assert (report.sent, report.skipped) == (0, 1)
    row = next(r for r in reminders(outbox_engine) if r.kind == "before_due")
    assert (row.state, row.reasons) == ("skipped", ["reminder_too_late"])
    assert standin.messages == []


def test_never_in_insolvency(outbox_engine: Engine, standin: TwilioStandIn) -> None:
    make_promise(outbox_engine, INSOLVENT, [("30.00", date(2026, 12, 21))], kind="full")
    report = sweep(outbox_engine, settings_for(standin), berlin(12, 18, 10))
    assert (report.sent, report.skipped) == (0, 1)
    [row] = reminders(outbox_engine)
    assert row.reasons == ["claim_insolvency"]
    assert standin.messages == []


def test_waits_while_an_agent_holds_the_conversation(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine, conversation_id="web-jana")
    jana = _jana_id(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        conversation_service.get_or_create(
            db_session=db_session, sender_id="web-jana", channel="web"
        )
        conversation_service.mark_verified(
            db_session=db_session,
            sender_id="web-jana",
            claim_reference=JANA,
            debtor_id=jana,
        )
        handoff = handoff_service.open_handoff(
            db_session=db_session, conversation_id="web-jana", channel="web", reason="human_request"
        )
        handoff_id = handoff.id
    settings = settings_for(standin)

    held = sweep(outbox_engine, settings, berlin(12, 18, 10))
    assert (held.sent, held.deferred) == (0, 1)
    assert reminders(outbox_engine)[0].reasons == ["held_by_agent"]
    with session_scope(outbox_engine) as db_session:
        handoff_service.close(db_session=db_session, handoff_id=handoff_id, outcome="talked")
    assert sweep(outbox_engine, settings, berlin(12, 18, 10, 30)).sent == 1


def test_no_channel_to_reach_the_debtor_is_skipped(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        db_session.execute(update(Debtor).where(Debtor.phone == JANA_PHONE).values(phone=None))
    # SMS is configured, but Jana has no phone number (and e-mail is not configured).
    report = sweep(outbox_engine, settings_for(standin), berlin(12, 18, 10))
    assert (report.sent, report.skipped) == (0, 1)
    assert reminders(outbox_engine)[0].reasons == ["no_channel"]


def test_with_no_channel_configured_nothing_is_planned(outbox_engine: Engine) -> None:
    make_promise(outbox_engine)
    report = sweep(outbox_engine, settings_for(), berlin(12, 18, 10))
    assert report.idle and "no channel configured" in str(report)
    assert reminders(outbox_engine) == []


def test_a_pending_reminder_survives_a_restart(outbox_url: str, standin: TwilioStandIn) -> None:
    from domain.db import make_engine

    first = make_engine(outbox_url)
    make_promise(first, schedule=[("80.00", date(2026, 12, 23))], kind="full")
    assert sweep(first, settings_for(standin), berlin(12, 20, 12)).deferred == 1
    first.dispose()  # the process ends

    second = make_engine(outbox_url)  # a new process, with new channels
    try:
        report = sweep(second, settings_for(standin), berlin(12, 21, 8, 30))
        assert (report.planned, report.sent) == (0, 1)
        assert [r.state for r in reminders(second)] == ["sent"]
    finally:
        second.dispose()
    assert len(standin.messages) == 1


def test_a_sweeper_that_died_never_causes_a_second_send(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine)
    make_promise(outbox_engine, "260000125", [("20.00", date(2026, 12, 21))], kind="full")
    with session_scope(outbox_engine) as db_session:
        planned = outbox.plan(db_session=db_session, now=berlin(12, 18, 10), policies=BOOK)
    assert planned == 2
    # A sweeper claims both, starts sending the first, and dies.
    with session_scope(outbox_engine) as db_session:
        ids = outbox.claim(db_session=db_session, now=berlin(12, 18, 10), limit=5, token="dead")
    assert len(ids) == 2
    long_ago = datetime.now(UTC) - outbox.CLAIM_LEASE - timedelta(minutes=1)
    with session_scope(outbox_engine) as db_session:
        db_session.execute(update(Reminder).where(Reminder.id.in_(ids)).values(claimed_at=long_ago))
        db_session.execute(
            update(Reminder).where(Reminder.id == ids[0]).values(send_started_at=long_ago)
        )
    # A live sweeper claims nothing while the lease runs … then settles them.
    report = sweep(outbox_engine, settings_for(standin), berlin(12, 18, 11))
    assert (report.recovered, report.sent, report.failed) == (2, 1, 0)
    rows = {r.id: r for r in reminders(outbox_engine)}
    assert (rows[ids[0]].state, rows[ids[0]].last_error) == ("failed", "outcome_unknown")
    assert rows[ids[1]].state == "sent"
    assert len(standin.messages) == 1
    kinds = [(e.kind, e.reasons) for e in reminder_audit(outbox_engine)]
    assert ("reminder_failed", ["outcome_unknown"]) in kinds


def test_claimed_rows_are_not_claimed_again(outbox_engine: Engine) -> None:
    make_promise(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        outbox.plan(db_session=db_session, now=berlin(12, 18, 10), policies=BOOK)
    with session_scope(outbox_engine) as db_session:
        first = outbox.claim(db_session=db_session, now=berlin(12, 18, 10), limit=5, token="a")
    with session_scope(outbox_engine) as db_session:
        second = outbox.claim(db_session=db_session, now=berlin(12, 18, 10), limit=5, token="b")
    assert (len(first), second) == (1, [])


def test_twilio_trouble_is_retried_later_a_refusal_is_not(
    outbox_engine: Engine, standin: TwilioStandIn
) -> None:
    make_promise(outbox_engine)
    settings = settings_for(standin)
    standin.fail_messages_with = 503
    report = sweep(outbox_engine, settings, berlin(12, 18, 10))
    assert (report.sent, report.retried) == (0, 1)
    [row] = reminders(outbox_engine)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "twilio_63016")
    assert row.next_attempt_at == berlin(12, 18, 10, 5)
    assert sweep(outbox_engine, settings, berlin(12, 18, 10, 3)).retried == 0  # not yet

    standin.fail_messages_with = None
    assert sweep(outbox_engine, settings, berlin(12, 18, 10, 6)).sent == 1
    assert [(r.state, r.attempts) for r in reminders(outbox_engine)] == [("sent", 2)]

    # The after-miss reminder is refused for good (an invalid number): failed, not retried.
    standin.fail_messages_with, standin.fail_code = 400, 21211
    report = sweep(outbox_engine, settings, berlin(12, 22, 10))
    assert (report.sent, report.failed) == (0, 1)
    failed = reminders(outbox_engine)[-1]
    assert (failed.state, failed.last_error) == ("failed", "twilio_21211")
    assert reminder_audit(outbox_engine)[-1].kind == "reminder_failed"
    assert sweep(outbox_engine, settings, berlin(12, 23, 10)).failed == 0


def test_an_sms_stop_at_twilio_is_an_opt_out(outbox_engine: Engine, standin: TwilioStandIn) -> None:
    make_promise(outbox_engine)
    settings = settings_for(standin)
    standin.fail_messages_with, standin.fail_code = 400, 21610
    report = sweep(outbox_engine, settings, berlin(12, 18, 10))
    assert (report.sent, report.skipped) == (0, 1)
    jana = _jana_id(outbox_engine)
    with session_scope(outbox_engine) as db_session:
        opt_out = db_session.get(ReminderOptOut, jana)
        assert opt_out is not None and opt_out.channel == "sms"
    standin.fail_messages_with = None
    later = sweep(outbox_engine, settings, berlin(12, 22, 10))
    assert (later.sent, later.skipped) == (0, 1)
    assert len(standin.messages) == 1  # the refused attempt only
    kinds = [e.kind for e in reminder_audit(outbox_engine)]
    assert kinds == ["reminder_opt_out", "reminder_skipped", "reminder_skipped"]


def test_twilio_unreachable_is_retried(outbox_engine: Engine, standin: TwilioStandIn) -> None:
    make_promise(outbox_engine)
    settings = settings_for(standin, twilio_api_base="http://127.0.0.1:9")
    report = sweep(outbox_engine, settings, berlin(12, 18, 10))
    assert report.retried == 1
    assert reminders(outbox_engine)[0].last_error == "twilio_unreachable"


def test_the_migration_goes_down_and_up_again(outbox_url: str) -> None:
    from sqlalchemy import inspect

    from api.db.migrate import downgrade, upgrade
    from domain.db import make_engine

    def tables() -> set[str]:
        engine = make_engine(outbox_url)
        try:
            return {t for t in inspect(engine).get_table_names() if t.startswith("reminder")}
        finally:
            engine.dispose()

    assert tables() == {"reminders", "reminder_opt_outs"}
    downgrade(outbox_url, "0010")
    assert tables() == set()
    upgrade(outbox_url)
    assert tables() == {"reminders", "reminder_opt_outs"}
