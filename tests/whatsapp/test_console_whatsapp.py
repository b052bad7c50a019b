"""The console's WhatsApp side: attachments, alerts, the 24-hour window and approved templates.

The real gateway app on SQLite, Twilio played by the stand-in. Contact hours
depend on the weekday, so template tests pin the console's clock
(`request_time`) to a moment the policy allows, or to a Sunday.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from domain.agents import service as agents_service
from domain.agents.security import create_access_token
from domain.audit.models import AuditEvent
from domain.claims import service as claims_service
from domain.config import ROOT, get_settings
from domain.conversations.models import Conversation, Message
from domain.db import session_scope
from domain.handoffs import service as handoffs_service
from domain.whatsapp import service as whatsapp_service
from domain.whatsapp.models import WhatsAppContact
from tests.support.twilio_standin import TwilioStandIn, webhook_form
from tests.whatsapp.helpers import BERLIN, allowed_moment, bodies, last_sunday_noon, post_webhook

DEBTOR = "whatsapp:+4917622233344"
OTHER = "whatsapp:+4917655566677"
OURS = "whatsapp:+4930999888777"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DE_SID = "HX00000000000000000000000000000de1"
EN_SID = "HX00000000000000000000000000000e01"


def _image(client: TestClient, standin: TwilioStandIn, address: str = DEBTOR) -> None:
    """Let the debtor send a photo (no Rasa needed)."""
    url, message_sid = standin.add_media(PNG, "image/png")
    form = webhook_form(
        address=address, our_address=OURS, message_sid=message_sid, media=[(url, "image/png")]
    )
    assert post_webhook(client, form).status_code == 200


def _handoff(address: str, agent_email: str) -> tuple[int, dict[str, str]]:
    """Open a handoff for the address and have a new agent hold it."""
    with session_scope() as db_session:
        agent = agents_service.create_agent(
            db_session=db_session, email=agent_email, password="x" * 12, role="agent"
        )
        handoff = handoffs_service.open_handoff(
            db_session=db_session,
            conversation_id=address,
            channel="whatsapp",
            reason="human_request",
        )
        handoffs_service.assign(db_session=db_session, handoff_id=handoff.id, agent_id=agent.id)
        token = create_access_token(agent_id=agent.id, role="agent")
        return handoff.id, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def held(client: TestClient, standin: TwilioStandIn) -> tuple[int, dict[str, str]]:
    """A debtor who sent a photo, and the agent holding their handoff."""
    _image(client, standin)
    return _handoff(DEBTOR, "alice@quitt.test")


@pytest.fixture
def pin_clock(client: TestClient) -> Iterator[Callable[[datetime], None]]:
    """Pin the console's clock; the contact's last message moves along (25 hours before)."""
    from api.console.dependencies import request_time

    def pin(moment: datetime, *, hours_since_debtor: float = 25) -> None:
        client.app.dependency_overrides[request_time] = lambda: moment  # type: ignore[attr-defined]
        _last_inbound(moment - timedelta(hours=hours_since_debtor))

    yield pin
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def _last_inbound(moment: datetime) -> None:
    with session_scope() as db_session:
        contact = db_session.get(WhatsAppContact, DEBTOR)
        assert contact is not None
        contact.last_inbound_at = moment


def _detail(client: TestClient, handoff_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/console/handoffs/{handoff_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _template(client: TestClient, handoff_id: int, headers: dict[str, str]) -> Any:
    return client.post(
        f"/api/console/handoffs/{handoff_id}/whatsapp/template",
        json={"template": "reengagement"},
        headers=headers,
    )


def _audit(kind: str) -> list[AuditEvent]:
    with session_scope() as db_session:
        rows = db_session.query(AuditEvent).filter(AuditEvent.kind == kind).all()
        db_session.expunge_all()
        return rows


def test_the_console_endpoints_need_a_token(
    client: TestClient, held: tuple[int, dict[str, str]]
) -> None:
    handoff_id, _ = held
    for method, path in (
        ("GET", f"/api/console/handoffs/{handoff_id}/attachments/1"),
        ("POST", f"/api/console/handoffs/{handoff_id}/whatsapp/template"),
    ):
        response = client.request(method, path, json={"template": "reengagement"})
        assert response.status_code == 401, path
        forged = client.request(
            method, path, json={"template": "reengagement"}, headers={"Authorization": "Bearer x"}
        )
        assert forged.status_code == 401, path


def test_the_conversation_view_lists_attachments_alerts_and_the_window(
    client: TestClient, standin: TwilioStandIn, held: tuple[int, dict[str, str]]
) -> None:
    handoff_id, headers = held
    with session_scope() as db_session:
        url, _ = standin.add_media(b"OggS" + b"\x00" * 32, "audio/ogg")
        whatsapp_service.add_attachment(
            db_session=db_session,
            address=DEBTOR,
            external_id="MM" + "1" * 32,
            media_url=url,
            content_type="audio/ogg",
            size_bytes=36,
            transcript="Ich habe gestern überwiesen.",
        )
    response = client.get(f"/api/console/handoffs/{handoff_id}", headers=headers)
    detail = response.json()
    image, voice = detail["attachments"]
    assert (image["kind"], image["content_type"]) == ("image", "image/png")
    assert (voice["kind"], voice["transcript"]) == ("voice", "Ich habe gestern überwiesen.")
    assert image["url"] == f"/api/console/handoffs/{handoff_id}/attachments/{image['id']}"
    # Twilio's URLs and the account never reach the browser.
    assert standin.base_url not in response.text and standin.account_sid not in response.text
    assert [a["reason"] for a in detail["alerts"]] == ["whatsapp_attachment"] * 2
    announced = [m for m in detail["transcript"] if m["attachment_ids"]]
    assert announced[0]["attachment_ids"] == [image["id"]]
    window = detail["whatsapp"]
    assert window["window_open"] is True and window["opted_out"] is False
    assert [t["name"] for t in window["templates"]] == ["reengagement"]


def test_an_agent_opens_an_attachment_through_the_gateway(
    client: TestClient, standin: TwilioStandIn, held: tuple[int, dict[str, str]]
) -> None:
    handoff_id, headers = held
    (image,) = _detail(client, handoff_id, headers)["attachments"]
    response = client.get(image["url"], headers=headers)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["content-disposition"].startswith("inline;")
    fetch = standin.media_fetches()[-1]
    assert fetch.authorized  # fetched with the account's credentials, by the gateway
    (opened,) = _audit("whatsapp_attachment_opened")
    assert opened.data == {"attachment_id": image["id"], "agent_id": opened.data["agent_id"]}


def test_another_conversations_attachment_is_not_found(
    client: TestClient, standin: TwilioStandIn, held: tuple[int, dict[str, str]]
) -> None:
    handoff_id, headers = held
    _image(client, standin, OTHER)
    other_handoff, other_headers = _handoff(OTHER, "bob@quitt.test")
    (theirs,) = _detail(client, other_handoff, other_headers)["attachments"]
    for attachment_id in (theirs["id"], 999_999):
        response = client.get(
            f"/api/console/handoffs/{handoff_id}/attachments/{attachment_id}", headers=headers
        )
        assert response.status_code == 404
    # Nor can Alice reach Bob's conversation through his handoff.
    assert client.get(theirs["url"], headers=headers).status_code == 403
    # Ids are integers: no path of any kind reaches the lookup.
    for tricky in (f"..%2F{theirs['id']}", "%2E%2E", "1%20or%201=1"):
        response = client.get(
            f"/api/console/handoffs/{handoff_id}/attachments/{tricky}", headers=headers
        )
        assert response.status_code in (404, 422) and response.content != PNG
    assert _audit("whatsapp_attachment_opened") == []


def test_a_template_goes_out_outside_the_window_and_free_text_after_the_answer(
    client: TestClient,
    standin: TwilioStandIn,
    held: tuple[int, dict[str, str]],
    pin_clock: Callable[[datetime], None],
) -> None:
    handoff_id, headers = held
    pin_clock(allowed_moment())
    window = _detail(client, handoff_id, headers)["whatsapp"]
    assert window["window_open"] is False and window["contact_allowed"] is True
    (offered,) = window["templates"]
    assert offered["language"] == "de" and "Quitt Inkasso GmbH" in offered["text"]

    refused = client.post(
        f"/api/console/handoffs/{handoff_id}/reply", json={"text": "Hallo?"}, headers=headers
    )
    assert refused.status_code == 409 and refused.json()["reason"] == "whatsapp_window_closed"

    response = _template(client, handoff_id, headers)
    assert response.status_code == 200, response.text
    sent = response.json()
    assert sent["template"]["name"] == "reengagement" and sent["text"] == offered["text"]
    (form,) = standin.messages_to(DEBTOR)
    assert form == {
        "From": OURS,
        "To": DEBTOR,
        "ContentSid": DE_SID,
        "ContentVariables": json.dumps({"1": "Quitt Inkasso GmbH"}),
    }
    (audit,) = _audit("whatsapp_template_sent")
    assert audit.data is not None and audit.data["content_sid"] == DE_SID
    assert audit.reasons == ["contact_allowed"] and audit.policy_version
    assert _detail(client, handoff_id, headers)["whatsapp"]["template_awaiting_answer"] is True
    again = _template(client, handoff_id, headers)
    assert again.status_code == 409
    assert again.json()["reason"] == "whatsapp_template_awaiting_answer"

    # The debtor answers: the window reopens, the template is not sent again as text.
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]
    answer = post_webhook(client, webhook_form(address=DEBTOR, our_address=OURS, body="Ja?"))
    assert bodies(answer.text) == []
    assert _detail(client, handoff_id, headers)["whatsapp"]["window_open"] is True
    reply = client.post(
        f"/api/console/handoffs/{handoff_id}/reply",
        json={"text": "Danke für Ihre Antwort."},
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    assert standin.wait_for_messages(DEBTOR, 2)[-1]["Body"] == "Danke für Ihre Antwort."


def test_an_english_debtor_gets_the_english_copy_with_the_configured_sid(
    client: TestClient,
    standin: TwilioStandIn,
    held: tuple[int, dict[str, str]],
    pin_clock: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handoff_id, headers = held
    override = "HX" + "ab" * 16
    monkeypatch.setenv("QUITT_WHATSAPP_TEMPLATE_SIDS", json.dumps({"reengagement.en": override}))
    get_settings.cache_clear()
    with session_scope() as db_session:
        conversation = db_session.get(Conversation, DEBTOR)
        assert conversation is not None
        conversation.language = "en"
    pin_clock(allowed_moment())
    response = _template(client, handoff_id, headers)
    assert response.status_code == 200, response.text
    assert response.json()["text"].startswith("Hello, this is Quitt Inkasso GmbH.")
    (form,) = standin.messages_to(DEBTOR)
    assert form["ContentSid"] == override and "Body" not in form


@pytest.mark.parametrize(
    ("situation", "reason"),
    [
        ("sunday", "outside_contact_hours"),
        ("window_open", "whatsapp_window_open"),
        ("opted_out", "whatsapp_opted_out"),
    ],
)
def test_no_template_when_the_rules_say_no(
    client: TestClient,
    standin: TwilioStandIn,
    held: tuple[int, dict[str, str]],
    pin_clock: Callable[..., None],
    situation: str,
    reason: str,
) -> None:
    handoff_id, headers = held
    if situation == "sunday":
        pin_clock(last_sunday_noon())
    elif situation == "window_open":
        pin_clock(allowed_moment(), hours_since_debtor=2)
    else:
        post_webhook(client, webhook_form(address=DEBTOR, our_address=OURS, body="STOP"))
        pin_clock(allowed_moment())
    response = _template(client, handoff_id, headers)
    assert response.status_code == 409
    body = response.json()
    assert body["reason"] == reason and body["detail"]
    if situation == "sunday":
        assert "sunday" in body["reasons"]
        next_at = datetime.fromisoformat(body["next_contact_at"]).astimezone(BERLIN)
        assert next_at > last_sunday_noon() and next_at.weekday() != 6
        assert (next_at.hour, next_at.minute) == (8, 0)
    assert standin.messages_to(DEBTOR) == []
    (audit,) = _audit("whatsapp_agent_reply_refused")
    assert audit.reasons == [reason] and audit.data and audit.data["template"] == "reengagement"


def test_a_template_twilio_refuses_is_reported_and_not_in_the_transcript(
    client: TestClient,
    standin: TwilioStandIn,
    held: tuple[int, dict[str, str]],
    pin_clock: Callable[[datetime], None],
) -> None:
    handoff_id, headers = held
    pin_clock(allowed_moment())
    standin.fail_messages_with = 400
    with client.websocket_connect("/api/console/ws") as socket:
        socket.send_json({"token": headers["Authorization"].removeprefix("Bearer ")})
        assert socket.receive_json()["type"] == "ready"
        response = _template(client, handoff_id, headers)
        for _ in range(20):
            event = socket.receive_json()
            if event.get("type") == "alert":
                break
    assert response.status_code == 502
    assert "Outside the allowed window" in response.json()["detail"]
    assert event["reason"] == "whatsapp_send_failed" and event["handoff_id"] == handoff_id
    (audit,) = _audit("whatsapp_agent_reply_refused")
    assert audit.reasons == ["whatsapp_send_failed"]
    with session_scope() as db_session:
        agent_lines = db_session.query(Message).filter(Message.author == "agent").count()
    assert agent_lines == 0
    assert _detail(client, handoff_id, headers)["whatsapp"]["template_awaiting_answer"] is False


def test_an_unknown_template_or_a_web_conversation_is_refused(
    client: TestClient, held: tuple[int, dict[str, str]], pin_clock: Callable[[datetime], None]
) -> None:
    handoff_id, headers = held
    pin_clock(allowed_moment())
    unknown = client.post(
        f"/api/console/handoffs/{handoff_id}/whatsapp/template",
        json={"template": "payment_reminder"},
        headers=headers,
    )
    assert unknown.status_code == 422 and "reengagement" in unknown.json()["detail"]
    with session_scope() as db_session:
        agent = agents_service.create_agent(
            db_session=db_session, email="carol@quitt.test", password="x" * 12, role="agent"
        )
        handoff = handoffs_service.open_handoff(
            db_session=db_session, conversation_id="web:abc", channel="socketio", reason="dispute"
        )
        handoffs_service.assign(db_session=db_session, handoff_id=handoff.id, agent_id=agent.id)
        token = create_access_token(agent_id=agent.id, role="agent")
        web_headers = {"Authorization": f"Bearer {token}"}
        web_handoff = handoff.id
    assert _detail(client, web_handoff, web_headers)["whatsapp"] is None
    assert _template(client, web_handoff, web_headers).status_code == 422


def test_a_creditors_own_template_is_used_only_once_the_debtor_is_verified(
    client: TestClient,
    standin: TwilioStandIn,
    held: tuple[int, dict[str, str]],
    pin_clock: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    handoff_id, headers = held
    shipped = yaml.safe_load(get_settings().whatsapp_templates_file.read_text(encoding="utf-8"))
    own_sid = "HX" + "5" * 32
    shipped["creditors"] = {
        "stadtwerke-musterstadt": {
            "reengagement": {
                "de": {"content_sid": own_sid, "text": "Hier sind {{1}} und Ihre Stadtwerke."}
            }
        }
    }
    path = tmp_path / "templates.yml"
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("QUITT_WHATSAPP_TEMPLATES_FILE", str(path))
    get_settings.cache_clear()
    with session_scope() as db_session:
        claims_service.import_file(db_session=db_session, path=ROOT / "data" / "demo_claims.json")
        handoff = handoffs_service.get(db_session=db_session, handoff_id=handoff_id)
        assert handoff is not None
        handoff.claim_reference = "260000117"  # named, but never verified
    pin_clock(allowed_moment())

    def offered() -> str:
        (option,) = _detail(client, handoff_id, headers)["whatsapp"]["templates"]
        return str(option["text"])

    assert "Stadtwerke" not in offered()
    with session_scope() as db_session:
        conversation = db_session.get(Conversation, DEBTOR)
        assert conversation is not None
        conversation.verified_claim_reference = "260000117"
    assert offered() == "Hier sind Quitt Inkasso GmbH und Ihre Stadtwerke."
    assert _template(client, handoff_id, headers).status_code == 200
    (form,) = standin.messages_to(DEBTOR)
    assert form["ContentSid"] == own_sid
    (audit,) = _audit("whatsapp_template_sent")
    assert audit.claim_reference == "260000117"
