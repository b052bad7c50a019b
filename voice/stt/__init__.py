"""Speech-to-text with Whisper, shared by the voice line and WhatsApp voice notes.

`build_engine(settings)` returns the configured engine (faster-whisper with the packaged
Whisper base model by default, or openai-whisper), or None when speech is off. Load it
once at start-up in a worker thread (`engine.load()`), then call `transcribe_async`.
"""

from voice.stt.engine import (
    LANGUAGES,
    SpeechEngine,
    SpeechError,
    Transcript,
    transcribe_async,
)
from voice.stt.factory import build_engine

__all__ = [
    "LANGUAGES",
    "SpeechEngine",
    "SpeechError",
    "Transcript",
    "build_engine",
    "transcribe_async",
]
