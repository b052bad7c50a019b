"""The speech engine interface, its transcript, and inference off the event loop."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

# Debtors speak German or English; language detection chooses only among these.
LANGUAGES: Final = ("de", "en")


# Below this mean token log probability, or above this no-speech probability, Whisper
# was guessing. Chosen on `make bench-voice` (see the README): on natural voices
# almost every transcript that was right is above it, and most garbled ones are below.
# The line reads no mood from such a transcript (voice/heard.py), and faster-whisper
# decodes it again in Whisper's full 30 s window (voice/stt/window.py).
MIN_SURE_AVG_LOGPROB: Final = -0.6
MAX_SURE_NO_SPEECH_PROB: Final = 0.5


def is_sure(avg_logprob: float | None, no_speech_prob: float | None) -> bool:
    """Tell whether Whisper's own numbers say it heard the words clearly."""
    if avg_logprob is None:
        return True  # the engine does not say: treat the text as typed, as before
    if avg_logprob < MIN_SURE_AVG_LOGPROB:
        return False
    return no_speech_prob is None or no_speech_prob <= MAX_SURE_NO_SPEECH_PROB


class SpeechError(RuntimeError):
    """The speech engine cannot be set up or cannot run."""


@dataclass(frozen=True)
class Transcript:
    """What an engine heard: the text, its language, how long audio and work took.

    `avg_logprob` (the mean log probability of the text's tokens) and `no_speech_prob`
    (Whisper's belief that there was no speech) tell how sure the model was; None
    when the engine does not say. `redecoded` names why a first, runaway decode was
    dropped; `discarded` why the text is empty although audio came (see `guard`).
    `widened`: the short window's text was unsure or dropped, so this one comes from
    Whisper's full window (`voice/stt/window.py`).
    """

    text: str
    language: str | None
    audio_seconds: float
    elapsed_seconds: float
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    redecoded: str | None = None
    discarded: str | None = None
    widened: bool = False


class SpeechEngine(Protocol):
    """A speech-to-text model: loaded once, then fed 16 kHz mono float32 audio."""

    name: str

    def load(self) -> None:
        """Load the model (once; later calls return at once)."""
        ...

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None, prompt: str | None = None
    ) -> Transcript:
        """Transcribe audio (CPU-bound: call it from a worker thread)."""
        ...


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _inference_thread() -> ThreadPoolExecutor:
    """Return the process's one inference thread, started when first needed."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quitt-stt")
        return _executor


async def transcribe_async(
    engine: SpeechEngine,
    audio: npt.NDArray[np.float32],
    *,
    language: str | None,
    prompt: str | None = None,
) -> Transcript:
    """Transcribe off the event loop, one inference at a time per process.

    Two CTranslate2 or PyTorch inferences at once on two cores only slow each other
    down, so requests queue for a single worker thread; queued requests hold no
    thread of the default pool (which the database calls need).
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _inference_thread(),
        lambda: engine.transcribe(audio, language=language, prompt=prompt),
    )
