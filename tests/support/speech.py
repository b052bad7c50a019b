"""Speech made in the test: espeak-ng sentences as WAV, OGG/Opus notes or telephone μ-law.

espeak-ng comes from Debian (`scripts/install-speech-tools.sh`); outside CI a missing
espeak-ng skips the test, in CI it fails it. Encoding goes through PyAV (FFmpeg), the
way a phone would pack a WhatsApp voice note (OGG container, Opus codec).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import wave
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np
import numpy.typing as npt
import pytest

ESPEAK = "espeak-ng"
VOICES = {"de": "de", "en": "en-gb"}


def require_espeak() -> str:
    """Return espeak-ng's path; skip outside CI, fail in CI when it is missing."""
    found = shutil.which(ESPEAK)
    if found is None:
        message = "espeak-ng is missing: run scripts/install-speech-tools.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@lru_cache(maxsize=64)
def espeak_wav(text: str, language: str, *, words_per_minute: int = 175) -> bytes:
    """Speak a sentence with espeak-ng; return the WAV file (22.05 kHz mono 16-bit)."""
    binary = require_espeak()
    result = subprocess.run(
        [binary, "-v", VOICES[language], "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def wav_samples(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """Read a mono 16-bit WAV file with the standard library; return (samples, rate)."""
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        frames = reader.readframes(reader.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.int16), reader.getframerate()


def encode(
    samples: npt.NDArray[np.int16],
    rate: int,
    *,
    container: str,
    codec: str,
    codec_rate: int,
    bit_rate: int | None = None,
) -> bytes:
    """Encode mono 16-bit samples into a container with PyAV (resampling as the codec needs)."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=container) as file:
        stream = file.add_stream(codec, rate=codec_rate, layout="mono")
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = 0
        for packet in stream.encode(frame):
            file.mux(packet)
        for packet in stream.encode(None):
            file.mux(packet)
    return out.getvalue()


def ogg_opus(text: str, language: str) -> bytes:
    """Return a spoken sentence as an OGG/Opus voice note, as WhatsApp sends one."""
    samples, rate = wav_samples(espeak_wav(text, language))
    return encode(samples, rate, container="ogg", codec="libopus", codec_rate=48000, bit_rate=24000)


def telephone_mulaw(text: str, language: str) -> bytes:
    """Return a spoken sentence as 8 kHz G.711 μ-law bytes (a Media Streams payload)."""
    from voice.audio import pcm16_to_mulaw, resample

    samples, rate = wav_samples(espeak_wav(text, language))
    narrow = resample(samples.astype(np.float32) / 32768.0, rate, 8000)
    return pcm16_to_mulaw(np.clip(np.round(narrow * 32767.0), -32768, 32767).astype(np.int16))
