"""The webhook without Rasa: signatures, retries, opt-out, attachments."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from domain.audit.models import AuditEvent
from domain.conversations import service as conversations_service
from domain.db import session_scope
from domain.whatsapp.models import Attachment, WhatsAppContact
from tests.support.twilio_standin import TwilioStandIn, sid, sign, webhook_form
from tests.whatsapp.helpers import PUBLIC_URL, bodies, counts, post_webhook

DEBTOR = "whatsapp:+4915112345678"
EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _transcript(address: str = DEBTOR) -> list[tuple[str, str]]:
    with session_scope() as db_session:
        return [
            (m.author, m.text)
            for m in conversations_service.transcript(db_session=db_session, sender_id=address)
        ]


@pytest.mark.parametrize(
    "signature",
    [None, "", "bm90IGEgc2lnbmF0dXJl", "forged+AAAAAAAAAAAAAAAAAAAAAA="],
    ids=["unsigned", "empty", "garbage", "forged"],
)
def test_unsigned_or_forged_webhooks_get_403_and_write_nothing(
    client: TestClient, signature: str | None
) -> None:
    before = counts()
    response = post_webhook(client, webhook_form(address=DEBTOR, body="STOP"), signature=signature)
    assert response.status_code == 403
    assert counts() == before


def test_a_signature_over_other_fields_or_another_url_is_refused(client: TestClient) -> None:
    before = counts()
    form = webhook_form(address=DEBTOR, body="STOP")
    tampered = {**form, "Body": "START"}
    good_for_form = sign(f"{PUBLIC_URL}/twilio/whatsapp", form)
    assert post_webhook(client, tampered, signature=good_for_form).status_code == 403
    # Signed for the address the request reached, not the configured public URL.
    assert post_webhook(client, form, public_url="http://testserver").status_code == 403
    assert counts() == before


def test_signed_with_the_real_validator_is_taken(client: TestClient) -> None:
    response = post_webhook(client, webhook_form(address=DEBTOR, body="abmelden"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Response><Message>Sie sind abgemeldet" in response.text


def test_without_an_auth_token_every_webhook_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from domain.config import get_settings

    monkeypatch.delenv("QUITT_TWILIO_AUTH_TOKEN")
    get_settings.cache_clear()
    before = counts()
    response = post_webhook(client, webhook_form(address=DEBTOR, body="STOP"))
    assert response.status_code == 403
    assert "QUITT_TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert counts() == before


def test_a_retry_with_the_same_message_sid_is_processed_once(client: TestClient) -> None:
    form = webhook_form(address=DEBTOR, body="STOP")
    first = post_webhook(client, form)
    after_first = counts()
    second = post_webhook(client, form)
    assert first.status_code == second.status_code == 200
    assert second.text == first.text  # the same TwiML answer
    assert counts() == after_first
    assert _transcript() == [("debtor", "STOP"), ("bot", bodies(first.text)[0])]


def test_the_full_number_never_reaches_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    form = webhook_form(address=DEBTOR, body="STOP")
    post_webhook(client, form)
    post_webhook(client, form)
    assert "+4915112345678" not in caplog.text
    assert "whatsapp:+49******78" in caplog.text


def test_stop_opts_out_once_then_silence_until_start(client: TestClient) -> None:
    stop = post_webhook(client, webhook_form(address=DEBTOR, body="STOP"))
    assert "Sie sind abgemeldet" in stop.text and "START" in stop.text
    again = post_webhook(client, webhook_form(address=DEBTOR, body="stopp"))
    assert again.text == EMPTY  # confirmed once only
    later = post_webhook(client, webhook_form(address=DEBTOR, body="Hallo, ist da jemand?"))
    assert later.status_code == 200 and later.text == EMPTY
    assert ("debtor", "Hallo, ist da jemand?") in _transcript()  # stored all the same
    start = post_webhook(client, webhook_form(address=DEBTOR, body="START"))
    assert "wieder angemeldet" in start.text
    with session_scope() as db_session:
        contact = db_session.get(WhatsAppContact, DEBTOR)
        assert contact is not None and contact.opted_out_at is None
        kinds = [
            e.kind
            for e in db_session.query(AuditEvent).filter(AuditEvent.conversation_id == DEBTOR)
        ]
    assert kinds == ["whatsapp_opt_out", "whatsapp_opt_in"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("unsubscribe", "You have unsubscribed"),
        ("Abmelden", "Sie sind abgemeldet"),
        ("STOPP!", "Sie sind abgemeldet"),
        (" stop ", "Sie sind abgemeldet"),
    ],
)
def test_opt_out_words_are_confirmed_in_the_language(
    client: TestClient, word: str, expected: str
) -> None:
    response = post_webhook(client, webhook_form(address="whatsapp:+4917000000001", body=word))
    assert expected in response.text


def test_an_image_is_acknowledged_and_attached_for_an_agent(
    client: TestClient, standin: TwilioStandIn
) -> None:
    url, message_sid = standin.add_media(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    form = webhook_form(address=DEBTOR, message_sid=message_sid, media=[(url, "image/jpeg")])
    response = post_webhook(client, form)
    assert response.status_code == 200
    assert (
        "<Message>Danke, ich habe Ihr Dokument an eine Mitarbeiterin weitergegeben.</Message>"
        in response.text
    )
    assert post_webhook(client, form).text == response.text  # a retry attaches nothing more
    with session_scope() as db_session:
        rows = db_session.query(Attachment).all()
        assert [(a.conversation_id, a.media_url, a.content_type, a.external_id) for a in rows] == [
            (DEBTOR, url, "image/jpeg", message_sid)
        ]
        assert rows[0].message_id is not None
    assert _transcript()[0] == ("debtor", "[Anhang: image/jpeg]")
    assert standin.media_fetches() == []  # an agent opens it; the gateway keeps no copy


def test_a_voice_note_is_fetched_with_the_account_credentials(
    client: TestClient, standin: TwilioStandIn
) -> None:
    audio = b"OggS" + bytes(range(256)) * 8
    url, message_sid = standin.add_media(audio, "audio/ogg")
    form = webhook_form(address=DEBTOR, message_sid=message_sid, media=[(url, "audio/ogg")])
    response = post_webhook(client, form)
    assert "Danke für Ihre Sprachnachricht" in response.text
    fetches = standin.media_fetches()
    assert len(fetches) == 1 and fetches[0].authorized
    with session_scope() as db_session:
        (row,) = db_session.query(Attachment).all()
        assert row.size_bytes == len(audio)
        assert row.sha256 == hashlib.sha256(audio).hexdigest()
        assert row.transcript is None  # no speech engine until the voice line brings Whisper


def test_a_non_whatsapp_sender_is_ignored(client: TestClient) -> None:
    before = counts()
    form = webhook_form(address="whatsapp:+4915112345678", body="Hallo")
    form["From"] = "+4915112345678"  # an SMS reaching the WhatsApp webhook
    response = post_webhook(client, form)
    assert response.status_code == 200 and response.text == EMPTY
    assert counts() == before


def test_a_webhook_without_message_sid_is_refused(client: TestClient) -> None:
    form = webhook_form(address=DEBTOR, body="Hallo", message_sid=sid("SM"))
    form["MessageSid"] = form["SmsMessageSid"] = "nope"
    assert post_webhook(client, form).status_code == 422
