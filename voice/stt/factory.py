"""Pick the speech engine the settings ask for; one engine per configuration and process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from voice.stt.engine import SpeechEngine, SpeechError
from voice.stt.faster import FasterWhisperEngine
from voice.stt.openai_backend import OpenAIWhisperEngine

# openai-whisper's model when QUITT_STT_MODEL is empty (downloaded: needs the internet).
OPENAI_DEFAULT_MODEL = "base"


class SpeechSettings(Protocol):
    """The settings `build_engine` reads (`api.config.Settings` has them)."""

    @property
    def stt_backend(self) -> str:
        """Return "faster-whisper", "openai-whisper" or "off"."""

    @property
    def stt_model(self) -> str:
        """Return a model folder, name or checkpoint; empty for the default."""

    @property
    def stt_compute_type(self) -> str:
        """Return CTranslate2's compute type (faster-whisper only)."""

    @property
    def stt_beam_size(self) -> int:
        """Return the beam size (1: greedy)."""

    @property
    def stt_cpu_threads(self) -> int:
        """Return the threads inference may use."""

    @property
    def stt_window_seconds(self) -> float:
        """Return the encoder window for short utterances (0: Whisper's 30 s)."""

    @property
    def stt_cache_dir(self) -> Path:
        """Return where models are joined or downloaded."""


_engines: dict[tuple[object, ...], SpeechEngine] = {}
_engines_lock = threading.Lock()


def build_engine(settings: SpeechSettings) -> SpeechEngine | None:
    """Return the configured engine (not yet loaded), or None when speech is off.

    Every app of a process with the same configuration shares one engine, so a model
    is held in memory and loaded once however many apps (or tests) start.
    """
    backend = settings.stt_backend
    if backend == "off":
        return None
    if settings.stt_beam_size < 1:
        raise SpeechError(f"the beam size must be 1 or more, not {settings.stt_beam_size}")
    key = (
        backend,
        settings.stt_model,
        settings.stt_compute_type,
        settings.stt_beam_size,
        settings.stt_cpu_threads,
        settings.stt_window_seconds,
        Path(settings.stt_cache_dir).resolve(),
    )
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create(settings, backend)
            _engines[key] = engine
        return engine


def _create(settings: SpeechSettings, backend: str) -> SpeechEngine:
    """Create a new engine for a backend name."""
    if backend == "faster-whisper":
        return FasterWhisperEngine(
            model=settings.stt_model or None,
            cache_dir=Path(settings.stt_cache_dir),
            compute_type=settings.stt_compute_type,
            beam_size=settings.stt_beam_size,
            cpu_threads=settings.stt_cpu_threads,
            window_seconds=settings.stt_window_seconds,
        )
    if backend == "openai-whisper":
        return OpenAIWhisperEngine(
            model=settings.stt_model or OPENAI_DEFAULT_MODEL,
            cache_dir=Path(settings.stt_cache_dir),
            beam_size=settings.stt_beam_size,
            cpu_threads=settings.stt_cpu_threads,
        )
    raise SpeechError(
        f"unknown speech backend {backend!r} (expected 'faster-whisper', 'openai-whisper' or 'off')"
    )
