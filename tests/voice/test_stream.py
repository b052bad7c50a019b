"""The media stream protocol on the real gateway app, without Rasa or Whisper.

These drive what needs no dialogue: who may open a stream, the retried webhook,
silence (re-prompt, then an offer of a person), barge-in over the listening
stream, the language key during the opening, and a hang-up. Whole calls through
Rasa and Whisper run in tests/integration/test_voice_calls.py.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from api.db.migrate import upgrade
from api.dialogue.service import UNSURE_TRANSCRIPT, Inbound, mood_readable
from api.main import create_app
from domain.calls.models import VoiceCall
from domain.config import get_settings
from domain.conversations.models import Message
from domain.db import session_scope
from domain.db.core import get_engine
from tests.support.phone_audio import frames, payload, silence, spoken
from tests.support.twilio_standin import sign
from tests.support.twilio_voice_standin import (
    Document,
    VoiceStandIn,
    call_sid,
    running_voice_standin,
)
from voice import speech_text
from voice.stt import Transcript

PUBLIC_URL = "https://quitt.example"


def _clear_caches() -> None:
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate a SQLite file once for the module."""
    path = tmp_path_factory.mktemp("voice-template") / "quitt.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def standin() -> Iterator[VoiceStandIn]:
    """Run the Calls endpoint for one test."""
    with running_voice_standin() as running:
        yield running


@pytest.fixture
def reprompt_seconds() -> str:
    """How long the line waits in silence before it asks again (short, to test it)."""
    return "0.3"


@pytest.fixture
def client(
    template_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    standin: VoiceStandIn,
    reprompt_seconds: str,
) -> Iterator[TestClient]:
    """Run the gateway app on a fresh database, Twilio played by the stand-in."""
    path = tmp_path / "quitt.db"
    shutil.copyfile(template_db, path)
    for key, value in {
        "QUITT_DATABASE_URL": f"sqlite:///{path}",
        "QUITT_ENVIRONMENT": "test",
        "QUITT_SENTIMENT_BACKEND": "off",
        "QUITT_STT_BACKEND": "off",
        "QUITT_PUBLIC_URL": PUBLIC_URL,
        "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
        "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
        "QUITT_TWILIO_API_BASE": standin.base_url,
        # Nothing listens there: the bot is never reached in these tests.
        "QUITT_RASA_URL": "http://127.0.0.1:9",
        "QUITT_VOICE_REPROMPT_SECONDS": reprompt_seconds,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    _clear_caches()
    with TestClient(create_app()) as test_client:
        yield test_client
    _clear_caches()


def _form(sid: str, caller: str = "+4915799911122") -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 31 + "1",
        "CallSid": sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": caller,
        "To": "+4930123456789",
    }


def _post(client: TestClient, path: str, form: dict[str, str], *, signed: bool = True) -> Any:
    headers = {"X-Twilio-Signature": sign(f"{PUBLIC_URL}{path}", form)} if signed else {}
    return client.post(path, data=form, headers=headers)


def _start(ws: WebSocketTestSession, sid: str, params: dict[str, str]) -> None:
    ws.send_text(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    ws.send_text(
        json.dumps(
            {
                "event": "start",
                "sequenceNumber": "1",
                "start": {
                    "streamSid": "MZ" + "1" * 32,
                    "callSid": sid,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": params,
                },
            }
        )
    )


def _media(ws: WebSocketTestSession, audio: bytes) -> None:
    for frame in frames(audio):
        ws.send_text(
            json.dumps({"event": "media", "media": {"track": "inbound", "payload": payload(frame)}})
        )


def _stop(ws: WebSocketTestSession, sid: str) -> None:
    ws.send_text(json.dumps({"event": "stop", "stop": {"callSid": sid}}))


# Ending a call transcribes what was said first (the Whisper model may still be loading
# on a busy CI machine: one full run here waited more than 15 s).
def _wait(condition: Any, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _call(sid: str) -> VoiceCall | None:
    with session_scope() as db_session:
        row = db_session.get(VoiceCall, sid)
        if row is not None:
            db_session.expunge(row)
        return row


def _ended(sid: str) -> bool:
    row = _call(sid)
    return row is not None and row.ended_at is not None


def test_a_call_is_answered_once_and_a_retry_gets_the_same_twiml(client: TestClient) -> None:
    sid = call_sid()
    first = _post(client, "/twilio/voice", _form(sid))
    again = _post(client, "/twilio/voice", _form(sid))
    assert first.status_code == again.status_code == 200
    assert first.text == again.text
    assert first.headers["content-type"].startswith("application/xml")
    document = Document.parse(first.text)
    assert document.listen is not None and document.turn is not None
    assert document.turn.url == "wss://quitt.example/twilio/voice/stream"
    assert "automatisierte Assistent" in document.says[0]
    with session_scope() as db_session:
        assert db_session.scalar(select(func.count()).select_from(VoiceCall)) == 1
        lines = db_session.scalars(select(Message).where(Message.conversation_id == f"voice:{sid}"))
        assert [m.author for m in lines] == ["bot"]  # the opening, once


@pytest.mark.parametrize(
    ("caller", "language"),
    [("+4915799911122", "de"), ("+43660123456", "de"), ("+447700900123", "en"), ("", "en")],
)
def test_the_opening_is_in_the_callers_likely_language(
    client: TestClient, caller: str, language: str
) -> None:
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid, caller)).text)
    assert document.turn is not None and document.turn.params["language"] == language
    assert ("For English, press 9" in document.says[0]) is (language == "de")


def test_a_malformed_call_sid_is_a_clear_error(client: TestClient) -> None:
    response = _post(client, "/twilio/voice", _form("CA-not-a-sid"))
    assert response.status_code == 422 and "CallSid" in response.text


def test_streams_without_the_calls_token_are_refused(client: TestClient) -> None:
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid)).text)
    assert document.turn is not None
    forged = {**document.turn.params, "token": "0" * 64}
    for sid_, params in ((sid, forged), (call_sid(), {**document.turn.params})):
        with client.websocket_connect("/twilio/voice/stream") as ws:
            _start(ws, sid_, params)
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert closed.value.code == 1008


def test_silence_gets_a_reprompt_then_an_offer_of_a_person(
    client: TestClient, standin: VoiceStandIn
) -> None:
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid)).text)
    assert document.turn is not None
    with client.websocket_connect("/twilio/voice/stream") as ws:
        _start(ws, sid, document.turn.params)
        _media(ws, silence(200))
        reprompt = Document.parse(standin.wait_update_sync(sid, 1).twiml)
        assert reprompt.says[0].startswith("Sind Sie noch da?")
        _stop(ws, sid)
    # Twilio said the re-prompt and opened the turn again; still nothing.
    with client.websocket_connect("/twilio/voice/stream") as ws:
        _start(ws, sid, document.turn.params)
        offer = Document.parse(standin.wait_update_sync(sid, 2).twiml)
        assert "drücken Sie die Null" in offer.says[0]
        _stop(ws, sid)
    row = _call(sid)
    assert row is not None and row.ended_at is None  # our own updates are no hang-up


def test_the_caller_can_interrupt_an_answer(client: TestClient, standin: VoiceStandIn) -> None:
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid, "+447700900123")).text)
    assert document.listen is not None and document.turn is not None
    with client.websocket_connect("/twilio/voice/stream") as listen:
        _start(listen, sid, document.listen.params)
        with client.websocket_connect("/twilio/voice/stream") as turn:
            _start(turn, sid, document.turn.params)
            _media(listen, silence(100))
            standin.wait_update_sync(sid, 1)  # the re-prompt is being said…
            _stop(turn, sid)
        # …and the caller speaks over it: the answer is cut, the turn opens at once.
        _media(listen, spoken("Hello, I am still here", "en", trail_ms=0))
        cut = ElementTree.fromstring(standin.wait_update_sync(sid, 2).twiml)
        assert [child.tag for child in cut] == ["Connect"]
        _stop(listen, sid)
    _wait(lambda: _ended(sid))


def test_key_9_in_the_opening_switches_the_language(
    client: TestClient, standin: VoiceStandIn
) -> None:
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid)).text)
    assert document.turn is not None and document.turn.params["language"] == "de"
    with client.websocket_connect("/twilio/voice/stream") as ws:
        _start(ws, sid, document.turn.params)
        ws.send_text(
            json.dumps({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": "9"}})
        )
        switched = ElementTree.fromstring(standin.wait_update_sync(sid, 1).twiml)
        say = switched.find("Say")
        assert say is not None and say.get("language") == "en-GB"
        assert (say.text or "").startswith("Of course, let's continue in English.")
        _stop(ws, sid)
    row = _call(sid)
    assert row is not None and row.language == "en"


# A silence re-prompt before the `stop` arrives (a busy machine) updates the call, and
# the turn stream's `stop` then reads as the turn passing, not as a hang-up: this test
# is about the hang-up alone.
@pytest.mark.parametrize("reprompt_seconds", ["60"])
def test_a_hang_up_ends_the_call_once(client: TestClient) -> None:
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid)).text)
    assert document.turn is not None
    with client.websocket_connect("/twilio/voice/stream") as ws:
        _start(ws, sid, document.turn.params)
        _stop(ws, sid)
        # Twilio closes the socket after `stop`, and a real server lets the handler
        # finish; Starlette's test client instead cancels the handler when this block
        # ends, which on a busy machine can land before `start` is even handled.
        _wait(lambda: _ended(sid))
    status = _post(client, "/twilio/voice/status", {**_form(sid), "CallStatus": "completed"})
    assert status.status_code == 200
    row = _call(sid)
    assert row is not None and row.end_reason == "hangup" and row.status == "ended"
    forged = _post(
        client, "/twilio/voice/status", {**_form(sid), "CallStatus": "completed"}, signed=False
    )
    assert forged.status_code == 403


# --- what Whisper heard, before the dialogue -------------------------------------------


@dataclass
class _ScriptedEngine:
    """A speech engine that "hears" the scripted transcripts in order."""

    script: list[Transcript]
    name: str = "scripted"

    def load(self) -> None:
        """Nothing to load."""

    def transcribe(
        self, audio: Any, *, language: str | None, prompt: str | None = None
    ) -> Transcript:
        """Return the next scripted transcript, with the audio's real length."""
        heard = self.script.pop(0)
        return replace(heard, language=language, audio_seconds=audio.size / 16000)


def _speak_to_the_line(
    client: TestClient,
    standin: VoiceStandIn,
    monkeypatch: pytest.MonkeyPatch,
    heard: Transcript,
) -> tuple[list[Inbound], str]:
    """Say one sentence on a call whose engine hears `heard`; return the turns and the reply."""
    passed: list[Inbound] = []

    async def dialogue(inbound: Inbound, *, gateway: Any) -> list[dict[str, Any]]:
        passed.append(inbound)  # the gateway's door: what the dialogue would get
        return [{"recipient_id": inbound.sender, "text": "Wie kann ich Ihnen helfen?"}]

    monkeypatch.setattr("voice.session.handle_inbound", dialogue)
    client.app.state.stt = _ScriptedEngine([heard])  # type: ignore[attr-defined]
    sid = call_sid()
    document = Document.parse(_post(client, "/twilio/voice", _form(sid)).text)
    assert document.turn is not None
    with client.websocket_connect("/twilio/voice/stream") as ws:
        _start(ws, sid, document.turn.params)
        _media(ws, spoken("Hallo, ich rufe wegen einer Rechnung an.", "de"))
        reply = Document.parse(standin.wait_update_sync(sid, 1).twiml)
        _stop(ws, sid)  # Twilio ends the turn stream to say the reply
    _post(client, "/twilio/voice/status", {**_form(sid), "CallStatus": "completed"})
    _wait(lambda: _ended(sid))
    return passed, " ".join(reply.says)


def test_a_runaway_transcript_never_reaches_the_dialogue(
    client: TestClient, standin: VoiceStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = "Meinwechsel, " + ", ".join(["links"] * 111) + "."
    passed, said = _speak_to_the_line(
        client, standin, monkeypatch, Transcript(loop, "de", 0.0, 1.0, avg_logprob=-0.2)
    )
    assert passed == []
    assert said == speech_text.text("not_understood", "de")


@pytest.mark.parametrize(("avg_logprob", "unsure"), [(-0.15, False), (-1.3, True)])
def test_an_unsure_transcript_is_marked_so_that_no_mood_is_read(
    client: TestClient,
    standin: VoiceStandIn,
    monkeypatch: pytest.MonkeyPatch,
    avg_logprob: float,
    unsure: bool,
) -> None:
    heard = Transcript("Hallo, mega mal in der S-Dunkan.", "de", 0.0, 1.0, avg_logprob=avg_logprob)
    passed, said = _speak_to_the_line(client, standin, monkeypatch, heard)
    (inbound,) = passed
    assert inbound.text == "Hallo, mega mal in der S-Dunkan." and inbound.channel == "voice"
    assert inbound.metadata.get(UNSURE_TRANSCRIPT, False) is unsure
    assert mood_readable(inbound) is not unsure
    assert "Wie kann ich Ihnen helfen?" in said
