"""Agent replies from the console reach WhatsApp through Twilio's REST API (the stand-in)."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from api.channels.whatsapp.runtime import deliver_agent_reply
from domain.agents import service as agents_service
from domain.agents.security import create_access_token
from domain.audit.models import AuditEvent
from domain.conversations.models import Message
from domain.db import session_scope
from domain.db.columns import utcnow
from domain.handoffs import service as handoffs_service
from domain.whatsapp.models import WhatsAppContact
from tests.support.twilio_standin import TwilioStandIn, webhook_form
from tests.whatsapp.helpers import bodies, post_webhook

DEBTOR = "whatsapp:+4917622233344"
OURS = "whatsapp:+4930999888777"


def _held_conversation(client: TestClient, standin: TwilioStandIn) -> tuple[int, dict[str, str]]:
    """Let the debtor write (a photo: no Rasa needed), then have an agent hold the handoff."""
    url, message_sid = standin.add_media(b"\x89PNG...", "image/png")
    form = webhook_form(
        address=DEBTOR, our_address=OURS, message_sid=message_sid, media=[(url, "image/png")]
    )
    assert post_webhook(client, form).status_code == 200
    with session_scope() as db_session:
        agent = agents_service.create_agent(
            db_session=db_session, email="alice@quitt.test", password="x" * 12, role="agent"
        )
        handoff = handoffs_service.open_handoff(
            db_session=db_session,
            conversation_id=DEBTOR,
            channel="whatsapp",
            reason="human_request",
        )
        handoffs_service.assign(db_session=db_session, handoff_id=handoff.id, agent_id=agent.id)
        token = create_access_token(agent_id=agent.id, role="agent")
        return handoff.id, {"Authorization": f"Bearer {token}"}


def _reply(client: TestClient, handoff_id: int, headers: dict[str, str], text: str) -> int:
    response = client.post(
        f"/api/console/handoffs/{handoff_id}/reply", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def _alert(socket: WebSocketTestSession) -> dict[str, Any]:
    """Read console events until an alert arrives."""
    for _ in range(20):
        event = socket.receive_json()
        if event.get("type") == "alert" and str(event.get("reason", "")).startswith("whatsapp_"):
            return dict(event)
    raise AssertionError("no WhatsApp alert on the console")


def _audit(kind: str) -> list[AuditEvent]:
    with session_scope() as db_session:
        rows = db_session.query(AuditEvent).filter(AuditEvent.kind == kind).all()
        db_session.expunge_all()
        return rows


def _delivered(message_id: int) -> bool:
    with session_scope() as db_session:
        message = db_session.get(Message, message_id)
        return message is not None and message.delivered_at is not None


def test_an_agent_reply_goes_out_through_the_rest_api(
    client: TestClient, standin: TwilioStandIn
) -> None:
    handoff_id, headers = _held_conversation(client, standin)
    message_id = _reply(
        client, handoff_id, headers, "Guten Tag, hier ist Alice. Ich sehe Ihr Foto."
    )
    (sent,) = standin.wait_for_messages(DEBTOR, 1)
    assert sent == {
        "From": OURS,
        "To": DEBTOR,
        "Body": "Guten Tag, hier ist Alice. Ich sehe Ihr Foto.",
    }
    assert _delivered(message_id)
    (audit,) = _audit("whatsapp_agent_reply_sent")
    assert audit.data is not None and audit.data["message_id"] == message_id
    assert audit.data["twilio_sids"][0].startswith("SM")


def test_a_long_agent_reply_goes_out_in_parts(client: TestClient, standin: TwilioStandIn) -> None:
    handoff_id, headers = _held_conversation(client, standin)
    text = " ".join(f"Das ist Satz {i} meiner langen Erklärung." for i in range(72))
    _reply(client, handoff_id, headers, text)
    assert 1600 < len(text) <= 3200
    sent = standin.wait_for_messages(DEBTOR, 2)
    assert len(sent) == 2 and all(len(m["Body"]) <= 1600 for m in sent)
    assert " ".join(m["Body"] for m in sent) == text


def test_outside_the_24_hour_window_free_text_is_refused_and_the_console_told(
    client: TestClient, standin: TwilioStandIn
) -> None:
    handoff_id, headers = _held_conversation(client, standin)
    with session_scope() as db_session:
        contact = db_session.get(WhatsAppContact, DEBTOR)
        assert contact is not None
        contact.last_inbound_at = utcnow() - timedelta(hours=25)
        messages_before = db_session.query(Message).count()
    with client.websocket_connect("/api/console/ws") as socket:
        socket.send_json({"token": headers["Authorization"].removeprefix("Bearer ")})
        assert socket.receive_json()["type"] == "ready"
        response = client.post(
            f"/api/console/handoffs/{handoff_id}/reply",
            json={"text": "Sind Sie noch da?"},
            headers=headers,
        )
        alert = _alert(socket)
    assert response.status_code == 409
    body = response.json()
    assert body["reason"] == "whatsapp_window_closed"
    assert "24-hour window closed" in body["detail"] and "template" in body["detail"]
    assert body["window_closed_at"] > body["last_inbound_at"]
    assert alert["reason"] == "whatsapp_window_closed" and alert["handoff_id"] == handoff_id
    assert standin.messages_to(DEBTOR) == []
    (audit,) = _audit("whatsapp_agent_reply_refused")
    assert audit.reasons == ["whatsapp_window_closed"]
    with session_scope() as db_session:
        assert db_session.query(Message).count() == messages_before  # nothing stored
    # The debtor writes again (a new window): free text goes out once more.
    answer = post_webhook(client, webhook_form(address=DEBTOR, our_address=OURS, body="Hallo?"))
    assert bodies(answer.text) == []
    _reply(client, handoff_id, headers, "Schön, dass Sie sich melden.")
    (sent,) = standin.wait_for_messages(DEBTOR, 1)
    assert sent["Body"] == "Schön, dass Sie sich melden."


def test_a_reply_to_an_opted_out_debtor_is_refused(
    client: TestClient, standin: TwilioStandIn
) -> None:
    handoff_id, headers = _held_conversation(client, standin)
    post_webhook(client, webhook_form(address=DEBTOR, our_address=OURS, body="STOP"))
    response = client.post(
        f"/api/console/handoffs/{handoff_id}/reply", json={"text": "Kurze Frage"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["reason"] == "whatsapp_opted_out"
    assert standin.messages_to(DEBTOR) == []


def test_the_forwarder_still_refuses_a_reply_the_window_closed_on(
    client: TestClient, standin: TwilioStandIn
) -> None:
    """A reply stored while the window was open but delivered after it closed stays held."""
    _, headers = _held_conversation(client, standin)
    with client.websocket_connect("/api/console/ws") as socket:
        socket.send_json({"token": headers["Authorization"].removeprefix("Bearer ")})
        assert socket.receive_json()["type"] == "ready"  # subscribed: no alert is missed
        with session_scope() as db_session:
            contact = db_session.get(WhatsAppContact, DEBTOR)
            assert contact is not None
            contact.last_inbound_at = utcnow() - timedelta(hours=25)
        runtime = client.app.state.whatsapp  # type: ignore[attr-defined]
        with session_scope() as db_session:
            message = Message(
                conversation_id=DEBTOR, direction="out", author="agent", text="Noch da?"
            )
            db_session.add(message)
            db_session.flush()
            message_id = message.id
        deliver = functools.partial(
            deliver_agent_reply,
            client=runtime.client,
            bus=runtime.bus,
            message_id=message_id,
            address=DEBTOR,
            text="Noch da?",
        )
        assert client.portal is not None
        assert client.portal.call(deliver) == []
        alert = _alert(socket)
    assert alert["reason"] == "whatsapp_window_closed" and alert["message_id"] == message_id
    assert standin.messages_to(DEBTOR) == []
    assert not _delivered(message_id)


@pytest.mark.parametrize("status", [400, 500])
def test_a_refused_send_is_reported_and_left_undelivered(
    client: TestClient, standin: TwilioStandIn, status: int
) -> None:
    handoff_id, headers = _held_conversation(client, standin)
    standin.fail_messages_with = status
    with client.websocket_connect("/api/console/ws") as socket:
        socket.send_json({"token": headers["Authorization"].removeprefix("Bearer ")})
        assert socket.receive_json()["type"] == "ready"
        message_id = _reply(client, handoff_id, headers, "Hallo")
        alert = _alert(socket)
    assert alert["reason"] == "whatsapp_send_failed"
    assert "Outside the allowed window" in alert["detail"]
    assert not _delivered(message_id)
