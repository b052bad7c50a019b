"""Phone calls on the real stack: Twilio played locally (signed webhooks, media streams, REST).

The shared session stack (Rasa, actions) gets one more gateway that knows the Twilio
stand-in, which opens both of the call's streams as Twilio does; the caller's speech is
a natural test voice (SVOX Pico for German, Piper for English) at 8 kHz μ-law,
transcribed by the real Whisper engine, and keypad input goes over the bidirectional
stream's `dtmf` messages. What the caller hears must sound like a call: the "not a
person" notice once, no chat wording, no format hints.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.launcher import Stack
from domain.calls.models import VoiceCall
from domain.conversations.models import Message
from domain.db import make_engine, session_scope
from tests.support.phone_audio import spoken, telephone_mulaw
from tests.support.speech import natural, require_voice
from tests.support.stack import Gateway, _free_port
from tests.support.twilio_voice_standin import PhoneCall, VoiceStandIn, running_voice_standin

pytestmark = pytest.mark.integration
GERMAN_CALLER = "+4917699988877"
# Emily Carter's number in the demo claims: German prefix, but a known English debtor.
ENGLISH_CALLER = "+4915255566677"


@dataclass
class Line:
    """The voice gateway, the stand-in and the database of the shared stack."""

    url: str
    standin: VoiceStandIn
    database_url: str
    log: Path
    gateway: Gateway

    def call(self, caller: str) -> PhoneCall:
        """Return a new call from a number."""
        return PhoneCall(self.standin, self.url, self.url, caller)


@pytest.fixture(scope="module")
def line(stack: Stack, gateway: Gateway) -> Iterator[Line]:
    """Start a gateway on the shared stack whose Twilio is the local stand-in."""
    for language in ("de", "en"):
        require_voice(natural(language))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with running_voice_standin() as standin:
        stack.add_gateway(
            port,
            name="gateway-voice",
            extra_env={
                "QUITT_PUBLIC_URL": url,
                "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
                "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
                "QUITT_TWILIO_API_BASE": standin.base_url,
                # Long enough that no re-prompt interrupts a test's turn.
                "QUITT_VOICE_REPROMPT_SECONDS": "60",
            },
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the voice gateway did not start")
        assert stack.log_dir is not None
        yield Line(url, standin, stack.database_url, stack.log_dir / "gateway-voice.log", gateway)


def _plain(texts: list[str]) -> str:
    return " ".join(texts).replace("\u00a0", " ")


def _transcript(database_url: str, conversation_id: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            rows = db_session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            )
            return [(m.author, m.text) for m in rows]
    finally:
        engine.dispose()


def _call_row(database_url: str, call_sid: str) -> VoiceCall | None:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            row = db_session.get(VoiceCall, call_sid)
            if row is not None:
                db_session.expunge(row)
            return row
    finally:
        engine.dispose()


def _wait_ended(database_url: str, call_sid: str, timeout: float = 60.0) -> VoiceCall:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _call_row(database_url, call_sid)
        if row is not None and row.ended_at is not None:
            return row
        time.sleep(0.2)
    raise AssertionError(f"call {call_sid} did not end")


def test_a_german_caller_agrees_an_instalment_plan(line: Line) -> None:
    call = line.call(GERMAN_CALLER)

    async def talk() -> list[str]:
        opening = await call.dial()
        assert set(call.streams) == {"listen", "turn"}  # the fork and the turn, at once
        said = [_plain(opening.says)]
        # The opening an independent caller used: it was "nicht verstanden" on espeak-ng.
        await call.stream(spoken("Hallo, ich rufe wegen einer Rechnung an.", "de"))
        said.append(_plain((await call.answer()).says))
        assert set(call.streams) == {"listen", "turn"}  # an update ends only the turn
        # Numbers go over the keypad: reference, date of birth, the monthly amount.
        for keys in ("260000117#", "14031987#", "2", "50#", "1"):
            await call.press(keys)
            said.append(_plain((await call.answer()).says))
        await call.stop()
        response = await call.status("completed")
        assert response.status_code == 200
        return said

    said = asyncio.run(talk())
    assert "automatisierte Assistent" in said[0] and "transkribiert" in said[0]
    assert "For English, press 9" in said[0]
    assert "Aktenzeichen" in said[1], said[1]
    assert "nicht verstanden" not in said[1], said[1]
    # The notice that no person answers comes once: in the opening, not again.
    whole = " ".join(said)
    assert whole.count("nicht mit einem Menschen") == 1 and "KI" not in whole, whole
    assert "schreiben" not in whole and "http" not in whole and "(" not in whole, whole
    assert "Ich habe zwei sechs null null null null eins eins sieben verstanden" in said[2]
    assert "Geburtsdatum" in said[2] and "vierhundert" not in said[2]
    assert "TT.MM.JJJJ" not in said[2] and "acht Ziffern für Tag, Monat und Jahr" in said[2]
    assert "Ich habe den vierzehnten März neunzehnhundertsiebenundachtzig verstanden" in said[3]
    # Amounts are spoken, not written: 412,50 € → "vierhundertzwölf Euro fünfzig".
    assert "vierhundertzwölf Euro fünfzig" in said[3] and "€" not in said[3], said[3]
    assert "Sagen Sie In Raten oder drücken Sie 2" in said[3], said[3]
    assert "Ich habe fünfzig verstanden" in said[5], said[5]
    assert "10 Monatsraten" in said[5] and "drücken Sie 1" in said[5], said[5]
    assert "festgehalten" in said[6], said[6]

    plans = [
        p
        for p in line.gateway.claim("260000117")["promises"]
        if p["kind"] == "instalment_plan" and p["channel"] == "voice"
    ]
    assert len(plans) == 1 and plans[0]["amount"] == "475.68"
    assert len(plans[0]["instalments"]) == 10
    row = _wait_ended(line.database_url, call.sid)
    # The caller hung up: the stream stops first, then the status callback comes.
    assert row.end_reason == "hangup" and row.language == "de"
    debtor = [t for a, t in _transcript(line.database_url, f"voice:{call.sid}") if a == "debtor"]
    assert debtor[1:] == ["260000117", "14.03.1987", "/ask_instalments", "50", "/affirm"], debtor


def test_an_english_caller_is_put_through_to_a_person(line: Line) -> None:
    call = line.call(ENGLISH_CALLER)

    async def talk() -> tuple[list[str], str | None]:
        opening = await call.dial()
        said = [_plain(opening.says)]
        await call.stream(spoken("I want to talk to a real person, please.", "en"))
        transfer = await call.answer()
        said.append(_plain(transfer.says))
        # Put through to a person: the fork is stopped by name, the turn ended by the update.
        assert transfer.stops == ["quitt-listen"] and call.streams == {}
        return said, transfer.enqueue

    said, queue = asyncio.run(talk())
    assert "automated assistant" in said[0] and "transcribed" in said[0]
    assert "Für Deutsch drücken Sie die 9" in said[0]
    assert "member of staff" in said[1], said[1]
    assert "reply here" not in said[1] and "chat" not in said[1], said[1]
    assert queue == "quitt-agents"
    queued = [h for h in line.gateway.handoffs("queued") if h["sender"] == f"voice:{call.sid}"]
    assert [(h["reason"], h["channel"]) for h in queued] == [("human_request", "voice")]
    console = httpx.get(
        f"{line.url}/api/console/queue",
        headers={"Authorization": f"Bearer {line.gateway.token}"},
        timeout=10,
    )
    assert console.status_code == 200, console.text
    assert f"voice:{call.sid}" in console.text
    row = _call_row(line.database_url, call.sid)
    assert row is not None and row.status == "transferred" and row.language == "en"


def test_forged_webhooks_are_refused_and_store_nothing(line: Line) -> None:
    call = line.call(GERMAN_CALLER)

    def calls() -> int:
        engine = make_engine(line.database_url)
        try:
            with session_scope(engine) as db_session:
                return int(db_session.scalar(select(func.count()).select_from(VoiceCall)) or 0)
        finally:
            engine.dispose()

    before = calls()

    async def forge() -> list[int]:
        unsigned = await call.post("/twilio/voice", call.webhook_form(), signed=False)
        tampered_form = call.webhook_form()
        headers = call._signed("/twilio/voice", tampered_form)
        tampered_form["From"] = "+4915112345678"
        async with httpx.AsyncClient(base_url=line.url) as http:
            wrong = await http.post(
                "/twilio/voice",
                data=call.webhook_form(),
                headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJlIGF0IGFsbA=="},
            )
            tampered = await http.post("/twilio/voice", data=tampered_form, headers=headers)
        status = await call.status("completed", signed=False)
        return [unsigned.status_code, wrong.status_code, tampered.status_code, status.status_code]

    assert asyncio.run(forge()) == [403, 403, 403, 403]
    assert calls() == before
    assert _call_row(line.database_url, call.sid) is None


def test_a_caller_who_hangs_up_mid_sentence(line: Line) -> None:
    call = line.call("+447700900123")
    sentence = telephone_mulaw("I would like to know how much money I still owe you", "en")

    async def talk() -> None:
        await call.dial()
        # Most of the sentence, then the line goes dead: `stop`, no trailing silence.
        await call.stream(sentence[: len(sentence) * 3 // 4])
        await call.stop()

    log_size = line.log.stat().st_size if line.log.exists() else 0
    asyncio.run(talk())
    row = _wait_ended(line.database_url, call.sid)
    assert row.end_reason == "hangup"
    transcript = _transcript(line.database_url, f"voice:{call.sid}")
    debtor = [text for author, text in transcript if author == "debtor"]
    assert len(debtor) == 1, transcript
    assert {"would", "like", "know", "much"} & set(debtor[0].lower().split()), debtor
    assert line.standin.updates_of(call.sid) == []  # nobody was there to answer
    new_log = line.log.read_text(errors="replace")[log_size:]
    assert "Traceback" not in new_log and "ERROR" not in new_log, new_log[-2000:]
