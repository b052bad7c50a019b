"""The TwiML documents of a call, built with the twilio library's `VoiceResponse`.

Turn-taking (see voice/README section in the project README):

- The answer starts a unidirectional `<Start><Stream>` ("listen"): it carries the
  caller's audio for the whole call, also while a reply is being said, so the
  gateway hears a caller who interrupts (barge-in).
- Every document ends in a bidirectional `<Connect><Stream>` ("turn"): it opens
  when the reply has been said (the caller's turn) and carries the keypad (DTMF
  reaches only bidirectional streams).
- A reply is pushed by updating the live call with `<Say>…</Say><Connect><Stream>`;
  that ends the turn stream, Twilio says the text, then opens a new turn stream.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from twilio.twiml.voice_response import VoiceResponse

STREAM_PATH: Final = "/twilio/voice/stream"
LISTEN: Final = "listen"
TURN: Final = "turn"
_LOCALES: Final = {"de": "de-DE", "en": "en-GB"}


@dataclass(frozen=True)
class Voice:
    """How the line sounds and where its streams connect."""

    public_url: str
    # Signs the streams' parameters, so that only streams Twilio got from us are taken.
    secret: str = ""
    voice_de: str = "Polly.Vicki-Neural"
    voice_en: str = "Polly.Amy-Neural"

    @property
    def stream_url(self) -> str:
        """Return the WebSocket URL of the media stream (wss:// for an https public URL)."""
        base = self.public_url.rstrip("/")
        if base.startswith("https://"):
            base = "wss://" + base.removeprefix("https://")
        elif base.startswith("http://"):
            base = "ws://" + base.removeprefix("http://")
        return f"{base}{STREAM_PATH}"

    def token(self, call_sid: str) -> str:
        """Return the stream token of a call (an HMAC of its CallSid)."""
        return hmac.new(self.secret.encode(), call_sid.encode(), hashlib.sha256).hexdigest()

    def valid_token(self, call_sid: str, token: str) -> bool:
        """Tell whether a stream's token belongs to the call."""
        return bool(self.secret) and hmac.compare_digest(self.token(call_sid), token)

    def say(self, response: VoiceResponse, text: str, language: str) -> None:
        """Say a text in the language's natural voice."""
        if text:
            voice = self.voice_en if language == "en" else self.voice_de
            response.say(text, voice=voice, language=_LOCALES.get(language, "de-DE"))

    def _stream(self, response: VoiceResponse, call_sid: str, language: str, role: str) -> None:
        """Add a stream with the call's parameters (echoed in the stream's `start`)."""
        verb = response.start() if role == LISTEN else response.connect()
        kwargs = {"name": f"quitt-{role}", "url": self.stream_url}
        if role == LISTEN:
            kwargs["track"] = "inbound_track"
        stream = verb.stream(**kwargs)
        stream.parameter(name="callSid", value=call_sid)
        stream.parameter(name="language", value=language)
        stream.parameter(name="role", value=role)
        stream.parameter(name="token", value=self.token(call_sid))

    def answer(self, *, call_sid: str, language: str, text: str) -> str:
        """Answer a call: start listening, say the opening, hand the caller the turn."""
        response = VoiceResponse()
        self._stream(response, call_sid, language, LISTEN)
        self.say(response, text, language)
        self._stream(response, call_sid, language, TURN)
        return str(response)

    def reply(self, *, call_sid: str, language: str, text: str) -> str:
        """Say a reply, then give the caller the turn again."""
        response = VoiceResponse()
        self.say(response, text, language)
        self._stream(response, call_sid, language, TURN)
        return str(response)

    def transfer(
        self,
        *,
        language: str,
        text: str,
        agent_number: str | None,
        queue: str,
        hold_music_url: str | None,
    ) -> str:
        """Say a short message and put the caller through: `<Dial>` a number or `<Enqueue>`."""
        response = VoiceResponse()
        # The person takes over: the gateway stops listening to the call.
        response.stop().stream(name=f"quitt-{LISTEN}")
        self.say(response, text, language)
        if agent_number:
            response.dial(agent_number)
        elif hold_music_url:
            response.enqueue(queue, wait_url=hold_music_url, wait_url_method="GET")
        else:
            response.enqueue(queue)
        return str(response)

    def goodbye(self, *, language: str, text: str) -> str:
        """Say goodbye and hang up."""
        response = VoiceResponse()
        self.say(response, text, language)
        response.hangup()
        return str(response)
