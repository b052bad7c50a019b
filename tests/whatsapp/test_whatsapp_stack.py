"""WhatsApp against the real stack: Rasa, actions and the gateway, Twilio played by the stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.launcher import Stack
from domain.audit.models import AuditEvent
from domain.conversations.models import Message
from domain.db import make_engine, session_scope
from domain.db.columns import utcnow
from domain.whatsapp.models import WhatsAppContact
from tests.integration.conftest import AGENT_EMAIL, AGENT_PASSWORD
from tests.support.stack import _free_port, running_stack, seeded_sqlite, twilio_env
from tests.support.twilio_standin import TwilioStandIn, running_standin, sign, webhook_form
from tests.whatsapp.helpers import WEBHOOK, bodies

pytestmark = pytest.mark.integration
OURS = "whatsapp:+4930123456789"


@dataclass
class WhatsAppStack:
    """The running stack, the stand-in, and a signed-webhook client."""

    stack: Stack
    standin: TwilioStandIn
    http: httpx.Client
    public_url: str

    def send(self, address: str, body: str, **fields: Any) -> httpx.Response:
        """Post a signed WhatsApp webhook, as Twilio would."""
        form = webhook_form(address=address, body=body, our_address=OURS, **fields)
        signature = sign(f"{self.public_url}{WEBHOOK}", form)
        return self.http.post(WEBHOOK, data=form, headers={"X-Twilio-Signature": signature})

    def say(self, address: str, body: str) -> list[str]:
        """Send a message and return the bodies of the TwiML answer."""
        response = self.send(address, body)
        assert response.status_code == 200, response.text
        return bodies(response.text)

    def agent_headers(self) -> dict[str, str]:
        """Log in as the seeded supervisor."""
        response = self.http.post(
            "/api/auth/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def wa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhatsAppStack]:
    """Run the stack with Twilio settings pointing at a local stand-in."""
    workdir = tmp_path_factory.mktemp("whatsapp-stack")
    port = _free_port()
    public_url = f"http://127.0.0.1:{port}"
    with (
        running_standin() as standin,
        running_stack(
            seeded_sqlite(workdir),
            workdir / "logs",
            gateway_port=port,
            extra_env={"QUITT_ENVIRONMENT": "test", **twilio_env(standin, public_url)},
        ) as stack,
        httpx.Client(base_url=public_url, timeout=60.0) as http,
    ):
        yield WhatsAppStack(stack, standin, http, public_url)


def _plain(texts: list[str]) -> str:
    """Join bodies and normalise the non-breaking spaces of locale formatting."""
    return "\n".join(texts).replace("\u00a0", " ").replace("\u202f", " ")


def _claim(wa: WhatsAppStack, reference: str) -> dict[str, Any]:
    response = wa.http.get(f"/api/claims/{reference}", headers=wa.agent_headers())
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_debtor_agrees_to_pay_in_full_over_whatsapp(wa: WhatsAppStack) -> None:
    # The demo debtor's own number: a hint only, the bot still asks for proof.
    who = "whatsapp:+4915112345678"
    first = _plain(wa.say(who, "Hallo"))
    assert "automatisiert" in first and "Aktenzeichen" in first
    assert "475" not in first and "Stadtwerke" not in first
    asked = _plain(wa.say(who, "260000117"))
    assert "Geburtsdatum" in asked and "475" not in asked
    details = _plain(wa.say(who, "14.03.1987"))
    assert "475,68 €" in details, details
    assert "1 – Alles auf einmal" in details and "Antworten Sie mit der Nummer." in details
    assert "/pay_full" not in details and "/human_request" not in details
    full = _plain(wa.say(who, "1"))
    assert "/" not in full.replace("https://", ""), full
    done = full
    for _ in range(2):
        if "festgehalten" in done:
            break
        done = _plain(wa.say(who, "ja"))
    assert "festgehalten" in done, (full, done)
    promises = _claim(wa, "260000117")["promises"]
    assert [(p["kind"], p["amount"], p["channel"]) for p in promises] == [
        ("full", "475.68", "whatsapp")
    ]
    with session_scope(make_engine(wa.stack.database_url)) as db_session:
        contact = db_session.get(WhatsAppContact, who)
        assert contact is not None and contact.debtor_hint_ids  # the number matched a debtor
        debtor_turns = [
            m.text
            for m in db_session.query(Message).filter(
                Message.conversation_id == who, Message.author == "debtor"
            )
        ]
    assert "/pay_full" in debtor_turns  # "1" reached the pipeline as the button's payload


def test_a_retry_is_answered_once_and_a_forgery_refused(wa: WhatsAppStack) -> None:
    who = "whatsapp:+4915199900011"
    form_sid = "SM" + "ab" * 16
    first = wa.send(who, "Hallo", message_sid=form_sid)
    second = wa.send(who, "Hallo", message_sid=form_sid)
    assert first.status_code == second.status_code == 200
    assert first.text == second.text and "automatisiert" in first.text
    forged = wa.http.post(
        WEBHOOK,
        data=webhook_form(address=who, body="Hallo"),
        headers={"X-Twilio-Signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    )
    assert forged.status_code == 403
    with session_scope(make_engine(wa.stack.database_url)) as db_session:
        count = (
            db_session.query(Message)
            .filter(Message.conversation_id == who, Message.author == "debtor")
            .count()
        )
    assert count == 1


def test_an_agent_reply_reaches_whatsapp_and_the_window_is_kept(wa: WhatsAppStack) -> None:
    who = "whatsapp:+4916098765432"
    wa.say(who, "Ich möchte bitte mit einem Mitarbeiter sprechen")
    headers = wa.agent_headers()
    queued = wa.http.get("/api/handoffs", params={"state": "queued"}, headers=headers).json()
    (handoff,) = [h for h in queued if h["sender"] == who]
    assert handoff["channel"] == "whatsapp"
    taken = wa.http.post(f"/api/console/handoffs/{handoff['id']}/take", headers=headers)
    assert taken.status_code == 200, taken.text

    def reply(text: str) -> None:
        response = wa.http.post(
            f"/api/console/handoffs/{handoff['id']}/reply", json={"text": text}, headers=headers
        )
        assert response.status_code == 200, response.text

    reply("Guten Tag, hier ist Ihre Sachbearbeiterin. Wie kann ich helfen?")
    (sent,) = wa.standin.wait_for_messages(who, 1)
    assert sent == {
        "From": OURS,
        "To": who,
        "Body": "Guten Tag, hier ist Ihre Sachbearbeiterin. Wie kann ich helfen?",
    }

    engine = make_engine(wa.stack.database_url)
    with session_scope(engine) as db_session:
        contact = db_session.get(WhatsAppContact, who)
        assert contact is not None
        contact.last_inbound_at = utcnow() - timedelta(hours=25)
    refused = wa.http.post(
        f"/api/console/handoffs/{handoff['id']}/reply",
        json={"text": "Sind Sie noch erreichbar?"},
        headers=headers,
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["reason"] == "whatsapp_window_closed"
    assert len(wa.standin.messages_to(who)) == 1  # nothing more went out
    with session_scope(engine) as db_session:
        audited = (
            db_session.query(AuditEvent)
            .filter(
                AuditEvent.conversation_id == who, AuditEvent.kind == "whatsapp_agent_reply_refused"
            )
            .all()
        )
        assert [e.reasons for e in audited] == [["whatsapp_window_closed"]]
    # Once the debtor writes again, free text goes out again.
    assert wa.say(who, "Ja, ich bin da") == []
    reply("Schön, dass Sie sich melden.")
    assert wa.standin.wait_for_messages(who, 2)[-1]["Body"] == "Schön, dass Sie sich melden."
