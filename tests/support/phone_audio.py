"""Telephone audio for the voice tests: generated speech cut into Twilio's 20 ms μ-law frames."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from tests.support.speech import telephone_mulaw

FRAME_BYTES = 160  # 20 ms of 8 kHz μ-law
SILENCE_BYTE = b"\xff"  # μ-law's zero


def silence(ms: int) -> bytes:
    """Return `ms` milliseconds of digital silence as μ-law."""
    return SILENCE_BYTE * (8 * ms)


def spoken(
    text: str,
    language: str,
    *,
    lead_ms: int = 200,
    trail_ms: int = 1000,
    voice: str | None = None,
) -> bytes:
    """Return a sentence said on the phone (a natural voice unless named), with silence around."""
    return silence(lead_ms) + telephone_mulaw(text, language, voice) + silence(trail_ms)


def frames(audio: bytes) -> Iterator[bytes]:
    """Cut μ-law audio into 20 ms frames (the last one padded with silence)."""
    for offset in range(0, len(audio), FRAME_BYTES):
        frame = audio[offset : offset + FRAME_BYTES]
        yield frame + SILENCE_BYTE * (FRAME_BYTES - len(frame))


def payload(frame: bytes) -> str:
    """Return a frame as a Media Streams `media.payload` (base64)."""
    return base64.b64encode(frame).decode()
