"""The seam for voice notes: audio in, text out.

The Whisper engine arrives with the voice line (faster-whisper, see
`../shared/MODELS.md`); until then `transcribe` hears nothing and the channel
acknowledges the note and keeps it for an agent. The voice line's engine plugs
in by replacing `WhatsAppRuntime.transcriber` at start-up.
"""

from __future__ import annotations

from typing import Protocol


class Transcriber(Protocol):
    """Turns a voice note into text, or None when it cannot."""

    async def __call__(
        self, audio: bytes, *, content_type: str, language: str | None
    ) -> str | None:
        """Return the words spoken in the audio, or None."""
        ...


async def transcribe(audio: bytes, *, content_type: str, language: str | None) -> str | None:
    """Return None: no speech engine yet (CPU-heavy engines must run off the event loop)."""
    return None
