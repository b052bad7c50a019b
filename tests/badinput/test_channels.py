"""Bad input on every channel: a clear 4xx or a polite answer, never a crash or a stack trace.

REST and web chat run against the session stack; WhatsApp against one more
gateway with WhatsApp on (signed with Twilio's real validator, the REST API
played by the stand-in).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.dialogue.service import MAX_MESSAGE_CHARS
from api.launcher import Stack
from api.main import create_app
from domain.config import get_settings
from domain.conversations.models import Message
from domain.db import make_engine, session_scope
from domain.db.core import get_engine
from tests.badinput.processes import (
    GatewayProcess,
    post_whatsapp,
    stack_gateway_env,
)
from tests.support.stack import Gateway
from tests.support.twilio_standin import TwilioStandIn, webhook_form
from tests.web.conftest import WebDebtor
from tests.whatsapp.helpers import bodies

pytestmark = pytest.mark.integration

WEBHOOK = "/webhooks/rest/webhook"
EMOJI_FLOOD = "😡💸🙈" * (MAX_MESSAGE_CHARS // 3)
CONTROL = "\x00\x01\x07Hallo\x1b[31m\x7f\u0085"


def _clear_error(response: httpx.Response) -> None:
    """Assert a 4xx with a JSON body that names the problem and shows no internals."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    assert "detail" in response.json()
    for internal in ("Traceback", 'File "', "sqlalchemy", "/work/"):
        assert internal not in response.text


def _debtor_texts(database_url: str, sender: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            return list(
                db_session.scalars(
                    select(Message.text)
                    .where(Message.conversation_id == sender, Message.author == "debtor")
                    .order_by(Message.id)
                )
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'{"sender": "x", "message": ', "application/json", id="truncated-json"),
        pytest.param(
            b'{"sender": "x", "message": "\xff\xfe\xc3"}', "application/json", id="bad-utf8"
        ),
        pytest.param(b"[1, 2, 3]", "application/json", id="json-array"),
        pytest.param(b'{"sender": "x"}', "application/json", id="no-message"),
        pytest.param(
            b'{"sender": "../../etc", "message": "hi"}', "application/json", id="bad-sender"
        ),
        pytest.param(b'{"sender": "x", "message": 42}', "application/json", id="number-message"),
        pytest.param(b"sender=x&message=Hallo", "application/x-www-form-urlencoded", id="form"),
        pytest.param(b'{"sender": "x", "message": "Hallo"}', "text/plain", id="text-plain"),
        pytest.param(b"\x00" * 2048, "application/octet-stream", id="binary"),
    ],
)
def test_rest_refuses_malformed_bodies_clearly(
    gateway: Gateway, body: bytes, content_type: str
) -> None:
    _clear_error(gateway.http.post(WEBHOOK, content=body, headers={"content-type": content_type}))


def test_rest_refuses_an_oversized_message_and_records_nothing(
    gateway: Gateway, database_url: str
) -> None:
    who = f"bad-big-{uuid.uuid4().hex[:8]}"
    response = gateway.http.post(
        WEBHOOK, json={"sender": who, "message": "a" * (MAX_MESSAGE_CHARS + 1)}
    )
    _clear_error(response)
    assert response.status_code == 422
    assert _debtor_texts(database_url, who) == []


def test_rest_answers_odd_but_valid_text_politely(gateway: Gateway, database_url: str) -> None:
    who = f"bad-odd-{uuid.uuid4().hex[:8]}"
    for text in (EMOJI_FLOOD, CONTROL, "ﷺ" * 50 + "\u202e\u200b"):
        response = gateway.http.post(WEBHOOK, json={"sender": who, "message": text})
        assert response.status_code == 200, response.text
        assert any(turn.get("text") for turn in response.json()), (text[:20], response.text)
    said = _debtor_texts(database_url, who)
    assert said[:2] == [EMOJI_FLOOD, "Hallo[31m"]  # control characters gone
    # Nothing but control characters is no message at all.
    assert gateway.say(who, "\x00\x01\x02") == []


def test_rest_refuses_lone_surrogates_clearly(gateway: Gateway, database_url: str) -> None:
    who = f"bad-sur-{uuid.uuid4().hex[:8]}"
    response = gateway.http.post(
        WEBHOOK,
        content=b'{"sender": "' + who.encode() + b'", "message": "\\ud800Hallo\\udfff"}',
        headers={"content-type": "application/json"},
    )
    if response.status_code == 200:  # stripped and answered
        assert any(turn.get("text") for turn in response.json())
        assert _debtor_texts(database_url, who) == ["Hallo"]
    else:
        _clear_error(response)
        assert _debtor_texts(database_url, who) == []


async def test_web_chat_survives_bad_frames_and_answers_odd_text(
    stack: Stack, database_url: str
) -> None:
    debtor = WebDebtor(f"http://127.0.0.1:{stack.gateway_port}")
    try:
        session_id = await debtor.connect()
        for frame in (
            "just a string",
            ["a", "list"],
            None,
            {"message": 42},
            {"message": None},
            {"message": "x" * (MAX_MESSAGE_CHARS + 1), "session_id": session_id},
            {"message": "\x00\x01", "session_id": session_id},
        ):
            await debtor.client.emit("user_uttered", frame)
        await asyncio.sleep(1.0)
        assert debtor.drain() == []  # ignored, without an error frame or a disconnect
        assert debtor.client.connected
        for text in (EMOJI_FLOOD, CONTROL):
            turns = await debtor.say(text)
            assert any(t.get("text") for t in turns), turns
        said = await asyncio.to_thread(_debtor_texts, database_url, f"web:{session_id}")
        assert said == [EMOJI_FLOOD, "Hallo[31m"]
    finally:
        await debtor.close()


async def test_web_chat_drops_an_oversized_frame_and_keeps_serving(stack: Stack) -> None:
    base_url = f"http://127.0.0.1:{stack.gateway_port}"
    flooder = WebDebtor(base_url)
    try:
        session_id = await flooder.connect()
        await flooder.client.emit(
            "user_uttered", {"message": "x" * 400_000, "session_id": session_id}
        )
        await asyncio.sleep(1.0)
        assert flooder.drain() == []
    finally:
        await flooder.close()
    fresh = WebDebtor(base_url)  # the server is fine for everybody else
    try:
        await fresh.connect()
        assert await fresh.texts("Hallo")
    finally:
        await fresh.close()


def _address() -> str:
    return f"whatsapp:+49171{uuid.uuid4().int % 10**7:07d}"


def _twiml_ok(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert "xml" in response.headers["content-type"]
    assert "Traceback" not in response.text
    return bodies(response.text)


def test_whatsapp_answers_odd_text_politely(
    whatsapp: tuple[GatewayProcess, TwilioStandIn],
) -> None:
    gateway, _ = whatsapp
    address = _address()
    with httpx.Client(timeout=60) as http:
        for text in (EMOJI_FLOOD, CONTROL, "a" * (MAX_MESSAGE_CHARS * 2)):
            answer = _twiml_ok(
                post_whatsapp(http, gateway, webhook_form(address=address, body=text))
            )
            assert answer and all(answer), (text[:10], answer)


@pytest.mark.parametrize(
    "media_url",
    [
        pytest.param(
            "https://evil.example/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", id="other-host"
        ),
        pytest.param(
            "{base}/2010-04-01/Accounts/{sid}/Messages/../../../../etc/passwd", id="dot-dot"
        ),
        pytest.param(
            "{base}/2010-04-01/Accounts/{sid}/Messages/%2e%2e/%2e%2e/Calls", id="encoded-dot-dot"
        ),
        pytest.param(
            "{base}/2010-04-01/Accounts/ACother/Messages/MM1/Media/ME1", id="other-account"
        ),
        pytest.param(
            "{base}.evil.example/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1", id="host-suffix"
        ),
        pytest.param("file:///etc/passwd", id="file"),
    ],
)
def test_whatsapp_never_fetches_media_outside_the_accounts_twilio_media(
    whatsapp: tuple[GatewayProcess, TwilioStandIn], media_url: str
) -> None:
    gateway, standin = whatsapp
    url = media_url.format(base=standin.base_url, sid=standin.account_sid)
    fetched_before = len(standin.media_fetches())
    form = webhook_form(address=_address(), media=[(url, "audio/ogg")])
    with httpx.Client(timeout=60) as http:
        answer = _twiml_ok(post_whatsapp(http, gateway, form))
    assert answer  # acknowledged politely
    assert len(standin.media_fetches()) == fetched_before  # and nothing was fetched


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b'{"Body": "Hallo"}', "application/json", id="json"),
        pytest.param(b"\xff\xfe%%%=&&=", "application/x-www-form-urlencoded", id="garbage-form"),
        pytest.param(b"", "application/x-www-form-urlencoded", id="empty"),
    ],
)
def test_whatsapp_refuses_malformed_webhooks(
    whatsapp: tuple[GatewayProcess, TwilioStandIn], body: bytes, content_type: str
) -> None:
    gateway, _ = whatsapp
    response = httpx.post(
        f"{gateway.base_url}/twilio/whatsapp",
        content=body,
        headers={"content-type": content_type, "X-Twilio-Signature": "bm9wZQ=="},
        timeout=30,
    )
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text


# The log audit: runs last in this module, so it also scans what the tests above logged.
DOB_DE = re.compile(r"(?<!\d)\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d{2}(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[0-9A-Z]{4}){3,7}(?:\s?[0-9A-Z]{1,4})?\b")
PHONE = re.compile(r"(?:\+49|0049|(?<![\d.])01[5-7]\d)[\s/-]?\d[\d\s/-]{6,}\d")
PERSONAL = [
    "Hallo",
    "260000117",
    "14.03.1987",
    "Meine IBAN ist DE89 3704 0044 0532 0130 00, geboren am 1987-03-14",
    "Rufen Sie mich an: +49 151 12345678 oder 0151 12345678 oder 0049 30 1234567",
]


def _clear_caches() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


def _findings(text: str) -> list[str]:
    found = [m.group(0) for pattern in (DOB_DE, IBAN, PHONE) for m in pattern.finditer(text)]
    found += [s for s in ("1987-03-14", "14/03/1987", "4915112345678") if s in text]
    return found


def test_logs_carry_no_birth_date_iban_or_phone_number(
    gateway: Gateway,
    stack: Stack,
    whatsapp: tuple[GatewayProcess, TwilioStandIn],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    who = f"logs-{uuid.uuid4().hex[:8]}"
    for text in PERSONAL:
        gateway.texts(who, text)
    wa_gateway, _ = whatsapp
    address = "whatsapp:+4915112345678"  # the demo debtor's own number
    with httpx.Client(timeout=60) as http:
        for text in PERSONAL:
            _twiml_ok(post_whatsapp(http, wa_gateway, webhook_form(address=address, body=text)))
    # An in-process gateway too (on the stack's Rasa and database), whose logs pytest captures.
    for key, value in stack_gateway_env(stack).items():
        monkeypatch.setenv(key, value)
    _clear_caches()
    try:
        with TestClient(create_app(), raise_server_exceptions=False) as client:
            for text in PERSONAL:
                client.post(WEBHOOK, json={"sender": f"{who}-inproc", "message": text})
    finally:
        _clear_caches()

    assert stack.log_dir is not None
    logs = {p.name: p.read_text(errors="replace") for p in stack.log_dir.glob("*.log")}
    logs["whatsapp-gateway.log"] = wa_gateway.log.read_text(errors="replace")
    logs["pytest-captured"] = caplog.text
    assert any("POST /webhooks/rest/webhook" in text for text in logs.values())  # logs were read
    assert "gateway.log" in logs and "rasa.log" in logs
    leaks = {name: _findings(text) for name, text in logs.items() if _findings(text)}
    assert leaks == {}
