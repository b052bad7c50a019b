"""Reminders on the real stack: a plan agreed over WhatsApp, reminded through the stand-in.

Rasa, the action server and the gateway run with Twilio pointing at the local
stand-in. Jana Becker agrees a plan over WhatsApp; the sweeps then run with a clock
(the plan is moved to a known week well ahead, so the weekdays are fixed): nothing
goes out on the Sunday the reminder is planned for, one approved template goes out on
Monday morning and only once, and after her STOP the reminder of the missed payment
does not go out at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, select

from api.launcher import Stack
from api.reminders.channels import Senders
from api.reminders.sweeper import SweepReport, run_once
from domain.db import make_engine, session_scope
from domain.promises.models import Promise
from policy.config import DEFAULT_POLICY, default_book
from policy.contact import public_holiday
from tests.api.reminders_support import reminders, settings_for
from tests.support.stack import _free_port, running_stack, seeded_sqlite, twilio_env
from tests.support.twilio_standin import TwilioStandIn, running_standin, sign, webhook_form
from tests.whatsapp.helpers import WEBHOOK, bodies

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")
JANA = "whatsapp:+4915112345678"
OURS = "whatsapp:+4930123456789"


@dataclass
class ReminderStack:
    """The running stack, the stand-in, and its database."""

    stack: Stack
    standin: TwilioStandIn
    http: httpx.Client
    public_url: str
    engine: Engine

    def say(self, body: str) -> str:
        """Send Jana's WhatsApp message (signed, as Twilio would) and return the answer."""
        form = webhook_form(address=JANA, body=body, our_address=OURS)
        signature = sign(f"{self.public_url}{WEBHOOK}", form)
        response = self.http.post(WEBHOOK, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text
        return "\n".join(bodies(response.text)).replace("\u00a0", " ").replace("\u202f", " ")

    def sweep(self, now: datetime) -> SweepReport:
        """Sweep the stack's outbox once with a clock, through the stand-in."""
        settings = settings_for(self.standin, sms=False)

        async def once() -> SweepReport:
            senders = Senders.from_settings(settings)
            try:
                return await run_once(
                    now=now,
                    senders=senders,
                    settings=settings,
                    policies=default_book(),
                    engine=self.engine,
                )
            finally:
                await senders.aclose()

        return asyncio.run(once())

    def templates(self) -> list[dict[str, str]]:
        """Return the templates the stand-in received for Jana."""
        return [m for m in self.standin.messages_to(JANA) if "ContentSid" in m]


@pytest.fixture(scope="module")
def rs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReminderStack]:
    """Run the stack with Twilio pointing at a local stand-in; sweeps are the test's own."""
    workdir = tmp_path_factory.mktemp("reminders-stack")
    url = seeded_sqlite(workdir)
    port = _free_port()
    public_url = f"http://127.0.0.1:{port}"
    with (
        running_standin() as standin,
        running_stack(
            url,
            workdir / "logs",
            gateway_port=port,
            # QUITT_ENVIRONMENT=test: the gateway's own timer stays off.
            extra_env={"QUITT_ENVIRONMENT": "test", **twilio_env(standin, public_url)},
        ) as stack,
    ):
        engine = make_engine(url)
        try:
            with httpx.Client(base_url=public_url, timeout=60.0) as http:
                yield ReminderStack(stack, standin, http, public_url, engine)
        finally:
            engine.dispose()


def _quiet_wednesday(after: date) -> date:
    """Return a Wednesday after `after` with no public holiday from the Sunday before on."""
    day = after + timedelta(days=(2 - after.weekday()) % 7)
    while any(
        public_holiday(day + timedelta(days=k), DEFAULT_POLICY.contact_hours) for k in range(-3, 8)
    ):
        day += timedelta(days=7)
    return day


def _move_plan(engine: Engine, first_due: date) -> None:
    """Move Jana's plan so that its first instalment falls due on `first_due`."""
    with session_scope(engine) as db_session:
        [promise] = db_session.scalars(
            select(Promise).where(Promise.conversation_id == JANA, Promise.status == "pending")
        )
        shift = first_due - promise.instalments[0].due_date
        promise.due_date += shift
        for instalment in promise.instalments:
            instalment.due_date += shift


def test_a_reminder_goes_once_inside_contact_hours_never_on_sunday_nor_after_stop(
    rs: ReminderStack,
) -> None:
    assert "Aktenzeichen" in rs.say("Hallo")
    assert "Geburtsdatum" in rs.say("260000117")
    assert "475,68 €" in rs.say("14.03.1987")
    offer = rs.say("Ich kann höchstens 50 im Monat zahlen")
    assert "50,00 €" in offer, offer
    done = rs.say("ja, passt")
    if "festgehalten" not in done:
        done = rs.say("ja")
    assert "festgehalten" in done, (offer, done)

    wednesday = _quiet_wednesday(datetime.now(BERLIN).date() + timedelta(days=60))
    _move_plan(rs.engine, wednesday)
    sunday, monday = wednesday - timedelta(days=3), wednesday - timedelta(days=2)

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)

    # Sunday, 10:00 is the planned moment: it waits.
    on_sunday = rs.sweep(at(sunday, 12))
    assert (on_sunday.planned, on_sunday.sent, on_sunday.deferred) == (1, 0, 1)
    assert rs.templates() == []
    [row] = reminders(rs.engine)
    assert row.reasons == ["sunday"]

    # Monday at 08:00: one approved template, through the stand-in; once.
    assert rs.sweep(at(monday, 8)).sent == 1
    assert rs.sweep(at(monday, 15)).sent == 0
    [template] = rs.templates()
    assert template["From"] == OURS
    assert template["ContentSid"] == "HX000000000000000000000000000b0de1"
    variables = json.loads(template["ContentVariables"])
    assert variables["2"] == "50,00\xa0€"
    assert variables["3"] == wednesday.strftime("%d.%m.%Y")
    assert variables["5"] == "260000117"

    # STOP, then the instalment is missed: the after-miss reminder never goes out.
    assert rs.say("STOP")
    missed = rs.sweep(at(wednesday + timedelta(days=1), 10))
    assert (missed.planned, missed.sent, missed.skipped) == (1, 0, 1)
    assert len(rs.templates()) == 1
    states = {(r.kind, r.state, tuple(r.reasons or ())) for r in reminders(rs.engine)}
    assert states == {
        ("before_due", "sent", ("reminder_allowed",)),
        ("after_miss", "skipped", ("opted_out",)),
    }
