"""Voice notes: audio in, text out, with the same Whisper engine as the voice line.

`transcriber_for(engine)` gives the channel its `Transcriber`: the note is decoded
(OGG/Opus, AMR, MP4, MPEG, WAV: whatever the phone sent) and transcribed off the event
loop in the conversation's language. Without an engine (`QUITT_STT_BACKEND=off`), or
when a note cannot be decoded or heard, the answer is None: the channel acknowledges the
note and keeps it for an agent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Final, Protocol

from voice.audio import SAMPLE_RATE, AudioError, decode_file
from voice.stt import SpeechEngine, transcribe_async

logger = logging.getLogger(__name__)

# Longer notes go to an agent untranscribed: Twilio waits only 15 s for the webhook.
MAX_NOTE_SECONDS: Final = 120.0


class Transcriber(Protocol):
    """Turns a voice note into text, or None when it cannot."""

    async def __call__(
        self, audio: bytes, *, content_type: str, language: str | None
    ) -> str | None:
        """Return the words spoken in the audio, or None."""
        ...


async def transcribe(audio: bytes, *, content_type: str, language: str | None) -> str | None:
    """Return None: no speech engine is configured."""
    return None


@dataclass(frozen=True)
class WhisperTranscriber:
    """Decode a voice note and let the speech engine hear it."""

    engine: SpeechEngine

    async def __call__(
        self, audio: bytes, *, content_type: str, language: str | None
    ) -> str | None:
        """Return the transcript, or None when the note cannot be decoded or is silent."""
        try:
            samples = await asyncio.to_thread(decode_file, audio)
        except AudioError as exc:
            # The reason names the format problem only; the bytes are never logged.
            logger.warning(
                "voice note not decoded (%s, %d bytes): %s", content_type, len(audio), exc.reason
            )
            return None
        seconds = samples.size / SAMPLE_RATE
        if seconds > MAX_NOTE_SECONDS:
            logger.info(
                "voice note of %.0f s left for an agent (over %.0f s)", seconds, MAX_NOTE_SECONDS
            )
            return None
        try:
            heard = await transcribe_async(self.engine, samples, language=language)
        except Exception:
            # A failing engine must not lose the note: it stays attached for an agent.
            logger.exception("voice note not transcribed (%s)", self.engine.name)
            return None
        logger.info(
            "voice note of %.1f s transcribed in %.2f s (%s)",
            heard.audio_seconds,
            heard.elapsed_seconds,
            heard.language,
        )
        return heard.text or None


def transcriber_for(engine: SpeechEngine | None) -> Transcriber:
    """Return the transcriber for the app's speech engine (the silent one without)."""
    return transcribe if engine is None else WhisperTranscriber(engine)
