"""Voice notes over WhatsApp on the real stack: Whisper hears them, the bot answers the words.

The notes are spoken by espeak-ng and packed as OGG/Opus (what WhatsApp sends); the Twilio
stand-in serves them behind its media URL, and the gateway fetches them with the account's
credentials, decodes and transcribes them with the packaged Whisper base model.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.channels.whatsapp.speech import WhisperTranscriber, transcribe, transcriber_for
from api.launcher import Stack
from domain.conversations.models import Message
from domain.db import make_engine, session_scope
from domain.whatsapp.models import Attachment
from tests.support.speech import ogg_opus, require_espeak
from tests.support.stack import _free_port, twilio_env, wait_healthy
from tests.support.twilio_standin import TwilioStandIn, running_standin, sign, webhook_form
from tests.whatsapp.helpers import WEBHOOK, bodies
from voice.stt import Transcript

OURS = "whatsapp:+4930123456789"


@dataclass
class VoiceStack:
    """The running stack with its Twilio stand-in, and a signed-webhook client."""

    stack: Stack
    standin: TwilioStandIn
    http: httpx.Client
    public_url: str

    def post(self, form: dict[str, str]) -> list[str]:
        """Post a signed webhook and return the bodies of the TwiML answer."""
        signature = sign(f"{self.public_url}{WEBHOOK}", form)
        response = self.http.post(WEBHOOK, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text
        return [_plain(body) for body in bodies(response.text)]

    def say(self, address: str, text: str) -> list[str]:
        """Send a typed message."""
        return self.post(webhook_form(address=address, body=text, our_address=OURS))

    def speak(self, address: str, sentence: str, language: str) -> list[str]:
        """Send a voice note of the sentence, served by the stand-in as Twilio would."""
        url, message_sid = self.standin.add_media(ogg_opus(sentence, language), "audio/ogg")
        form = webhook_form(
            address=address, our_address=OURS, message_sid=message_sid, media=[(url, "audio/ogg")]
        )
        return self.post(form)

    def debtor_lines(self, address: str) -> list[str]:
        """Return what the debtor said in a conversation, as the transcript keeps it."""
        with session_scope(make_engine(self.stack.database_url)) as db_session:
            return list(
                db_session.scalars(
                    select(Message.text)
                    .where(Message.conversation_id == address, Message.author == "debtor")
                    .order_by(Message.id)
                )
            )

    def transcripts(self, address: str) -> list[str | None]:
        """Return the transcripts stored with a conversation's attachments."""
        with session_scope(make_engine(self.stack.database_url)) as db_session:
            return list(
                db_session.scalars(
                    select(Attachment.transcript)
                    .where(Attachment.conversation_id == address)
                    .order_by(Attachment.id)
                )
            )


def _plain(text: str) -> str:
    """Normalise the non-breaking spaces of locale formatting."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _address() -> str:
    """Return a fresh WhatsApp address (no known debtor's number)."""
    return f"whatsapp:+49155{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture(scope="module")
def voice(stack: Stack) -> Iterator[VoiceStack]:
    """Start a gateway on the shared stack whose Twilio is a local stand-in (speech on)."""
    require_espeak()
    port = _free_port()
    public_url = f"http://127.0.0.1:{port}"
    with running_standin() as standin:
        stack.add_gateway(
            port,
            name="gateway-voice-notes",
            extra_env={
                **twilio_env(standin, public_url),
                "QUITT_STT_BACKEND": "faster-whisper",
            },
        )
        wait_healthy(public_url, "the WhatsApp gateway")
        with httpx.Client(base_url=public_url, timeout=120.0) as http:
            yield VoiceStack(stack, standin, http, public_url)


def _verify(voice: VoiceStack, who: str) -> str:
    """Pass the identity check of the German demo debtor 260000125 by typing."""
    voice.say(who, "Hallo")
    voice.say(who, "260000125")
    return "\n".join(voice.say(who, "02.11.1995"))


@pytest.mark.integration
def test_a_german_voice_note_is_answered_like_the_typed_words(voice: VoiceStack) -> None:
    sentence = "Ich kann höchstens fünfzig Euro im Monat zahlen."
    spoken, typed = _address(), _address()
    for who in (spoken, typed):
        assert "€" in _verify(voice, who)  # verified: the claim's amounts are shown
    answer = voice.speak(spoken, sentence, "de")
    expected = voice.say(typed, sentence)
    assert "Monatsraten" in "\n".join(expected), expected
    assert answer == expected
    (heard,) = voice.transcripts(spoken)
    assert heard is not None and "50" in heard and "Euro" in heard, heard
    # The transcript sits in the conversation as the debtor's words, after the note's marker.
    assert voice.debtor_lines(spoken)[-2:] == ["[Sprachnachricht]", heard]
    fetched = voice.standin.media_fetches()
    assert fetched and all(request.authorized for request in fetched)


@pytest.mark.integration
def test_an_english_voice_note_opens_a_conversation_in_english(voice: VoiceStack) -> None:
    sentence = "I would like to speak to a person, please."
    spoken, typed = _address(), _address()
    # No language is known yet: Whisper chooses between German and English.
    answer = voice.speak(spoken, sentence, "en")
    expected = voice.say(typed, sentence)
    assert answer == expected
    assert "automated" in "\n".join(answer), answer
    (heard,) = voice.transcripts(spoken)
    assert heard is not None and "person" in heard.lower(), heard
    # The note's marker was written before the language was known; then the words.
    lines = voice.debtor_lines(spoken)
    assert len(lines) == 2 and lines[-1] == heard, lines


@pytest.mark.integration
def test_a_note_that_is_not_audio_stays_for_an_agent(voice: VoiceStack) -> None:
    who = _address()
    voice.say(who, "Hallo")
    url, message_sid = voice.standin.add_media(b"OggS" + bytes(600), "audio/ogg")
    answer = voice.post(
        webhook_form(
            address=who, our_address=OURS, message_sid=message_sid, media=[(url, "audio/ogg")]
        )
    )
    assert any("Sprachnachricht" in line for line in answer), answer
    assert voice.transcripts(who) == [None]
    assert voice.debtor_lines(who) == ["Hallo", "[Sprachnachricht]"]


@dataclass
class _Engine:
    """A stand-in speech engine: says a fixed sentence, or fails like a broken model."""

    name: str = "stand-in"
    fails: bool = False
    heard: list[tuple[int, str | None]] | None = None

    def load(self) -> None:
        """Nothing to load."""

    def transcribe(
        self, audio: Any, *, language: str | None, prompt: str | None = None
    ) -> Transcript:
        """Return the sentence (recording what it got), or raise."""
        if self.fails:
            raise RuntimeError("model exploded")
        if self.heard is not None:
            self.heard.append((int(audio.size), language))
        return Transcript("Ich kann fünfzig Euro zahlen.", language, audio.size / 16000, 0.01)


async def test_the_transcriber_decodes_and_passes_the_conversation_language() -> None:
    require_espeak()
    engine = _Engine(heard=[])
    transcriber = transcriber_for(engine)
    assert isinstance(transcriber, WhisperTranscriber)
    note = ogg_opus("Guten Tag", "de")
    text = await transcriber(note, content_type="audio/ogg", language="en")
    assert text == "Ich kann fünfzig Euro zahlen."
    ((samples, language),) = engine.heard or []
    assert language == "en" and samples > 16000 // 2  # half a second of speech, at 16 kHz


async def test_a_failing_engine_or_no_engine_leaves_the_note_for_an_agent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    require_espeak()
    assert transcriber_for(None) is transcribe
    assert await transcribe(b"x", content_type="audio/ogg", language="de") is None
    note = ogg_opus("Guten Tag", "de")
    assert (
        await WhisperTranscriber(_Engine(fails=True))(note, content_type="audio/ogg", language="de")
        is None
    )
    assert "voice note not transcribed" in caplog.text
    caplog.clear()
    assert (
        await WhisperTranscriber(_Engine())(b"\x00" * 64, content_type="audio/ogg", language="de")
        is None
    )
    assert "voice note not decoded (audio/ogg, 64 bytes)" in caplog.text
