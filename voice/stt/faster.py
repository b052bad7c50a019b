"""faster-whisper (CTranslate2): the offline default, with the packaged Whisper base model."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from voice.audio import SAMPLE_RATE
from voice.stt.engine import LANGUAGES, SpeechError, Transcript, is_sure
from voice.stt.guard import guarded, max_tokens, says_it_twice
from voice.stt.model_cache import ensure_model_dir
from voice.stt.prompts import DOMAIN_PROMPTS, prompt_for
from voice.stt.window import FULL_FRAMES, full_window, window_frames, windowed_model_class

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)


def pick_language(probabilities: list[tuple[str, float]], allowed: tuple[str, ...]) -> str:
    """Return the most probable of the allowed languages (the first one when none is listed)."""
    scores = {code: p for code, p in probabilities if code in allowed}
    return max(allowed, key=lambda code: scores.get(code, 0.0))


def normalise_language(language: str | None, allowed: tuple[str, ...]) -> str | None:
    """Return the allowed two-letter code of "de", "de-DE" or "EN"; None for anything else."""
    code = (language or "").split("-")[0].split("_")[0].strip().lower()
    return code if code in allowed else None


# Greedy/beam decoding first; one sampled retry when the output looks like a loop.
FALLBACK_TEMPERATURES: tuple[float, ...] = (0.0, 0.5)
# After a runaway (voice/stt/guard.py): sampled from the start, warmer on each retry.
CAREFUL_TEMPERATURES: tuple[float, ...] = (0.2, 0.6)


class FasterWhisperEngine:
    """Whisper on CTranslate2: int8 on the CPU by default, loaded once, thread-safe."""

    name = "faster-whisper"

    def __init__(
        self,
        *,
        model: str | None,
        cache_dir: Path,
        compute_type: str = "int8",
        beam_size: int = 5,
        cpu_threads: int = 2,
        window_seconds: float = 10.0,
        vad_filter: bool = True,
        languages: tuple[str, ...] = LANGUAGES,
        prompts: Mapping[str, str] = DOMAIN_PROMPTS,
    ) -> None:
        self.model_ref = model
        self.cache_dir = cache_dir
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        # The encoder's window (voice/stt/window.py): 10 s, or Whisper's 30 s when 0.
        self.window_seconds = window_seconds
        self.vad_filter = vad_filter
        self.languages = languages
        self.prompts = prompts
        self.load_seconds: float | None = None
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    def model_path(self) -> str:
        """Return what WhisperModel loads: the configured folder or name, or the packaged base."""
        if self.model_ref:
            return self.model_ref
        return str(ensure_model_dir(self.cache_dir))

    def load(self) -> None:
        """Load the model once (later calls return at once)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            started = time.perf_counter()
            try:
                model = windowed_model_class()(
                    self.model_path(),
                    device="cpu",
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    download_root=str(self.cache_dir),
                )
            except (OSError, RuntimeError, ValueError) as exc:
                what = self.model_ref or "the packaged base model"
                raise SpeechError(f"faster-whisper cannot load {what}: {exc}") from exc
            model.window = window_frames(self.window_seconds)
            self._model = model
            self.load_seconds = time.perf_counter() - started
            logger.info(
                "faster-whisper loaded (%s, %s, %d s window) in %.2f s",
                self.model_ref or "packaged base",
                self.compute_type,
                model.window // 100,
                self.load_seconds,
            )

    def detect_language(self, audio: npt.NDArray[np.float32]) -> str:
        """Return the allowed language the audio is most likely in (Whisper alone may pick
        any of 99: it once heard Thai in an English phone call)."""
        self.load()
        assert self._model is not None
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        with full_window():  # rare (a voice note of unknown language): as Whisper was made
            _, _, probabilities = self._model.detect_language(
                audio=samples, vad_filter=self.vad_filter
            )
        return pick_language(probabilities, self.languages)

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None, prompt: str | None = None
    ) -> Transcript:
        """Transcribe 16 kHz mono audio; an unknown language is detected among de/en.

        Without a prompt the language's domain prompt primes Whisper; "" means none.
        A runaway result is decoded again carefully, then dropped (`guard.guarded`).
        The encoder sees a short window (`voice/stt/window.py`); a text from it that
        Whisper is unsure of, that was dropped or that says the same words twice in a
        row is decoded once more in the full window.
        """
        self.load()
        assert self._model is not None
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        if samples.size == 0:
            return Transcript("", normalise_language(language, self.languages), 0.0, 0.0)
        chosen = normalise_language(language, self.languages) or self.detect_language(samples)
        first = guarded(lambda careful: self._decode(samples, chosen, prompt, careful=careful))
        window = getattr(self._model, "window", FULL_FRAMES)  # none: Whisper's own model
        doubt = (
            not is_sure(first.avg_logprob, first.no_speech_prob)
            or first.discarded is not None
            or says_it_twice(first.text)
        )
        if window >= FULL_FRAMES or not doubt:
            return first
        with full_window():
            second = guarded(lambda careful: self._decode(samples, chosen, prompt, careful=careful))
        elapsed = first.elapsed_seconds + second.elapsed_seconds
        return replace(second, elapsed_seconds=elapsed, widened=True)

    def _decode(
        self,
        samples: npt.NDArray[np.float32],
        language: str,
        prompt: str | None,
        *,
        careful: bool,
    ) -> Transcript:
        """Decode once (tokens bounded by the audio); `careful`: no prompt, sampled."""
        model = self._model
        assert model is not None
        started = time.perf_counter()
        seconds = samples.size / SAMPLE_RATE
        options: dict[str, Any] = {
            "language": language,
            "beam_size": self.beam_size,
            "initial_prompt": None if careful else prompt_for(language, prompt, self.prompts),
            "vad_filter": self.vad_filter,
            # Each utterance stands alone: no drift from one window into the next.
            "condition_on_previous_text": False,
            "without_timestamps": True,
            # One fallback instead of Whisper's six (0.0 … 1.0): on 44 telephone
            # utterances the same WER (de 0.53, en 0.22), transcription p95 4.6 -> 1.8 s.
            "temperature": CAREFUL_TEMPERATURES if careful else FALLBACK_TEMPERATURES,
        }
        # Bounded by what the audio can hold, so that a loop stops early (it once took
        # 15 s to write 56 words for 3.4 s of speech); real speech never comes near it.
        options["max_new_tokens"] = max_tokens(seconds)
        if self.beam_size == 1:
            options["best_of"] = 1
        segments, _ = model.transcribe(samples, **options)
        heard = list(segments)
        text = " ".join(segment.text.strip() for segment in heard).strip()
        avg_logprob, no_speech_prob = confidence(
            [(s.avg_logprob, s.no_speech_prob, len(s.tokens)) for s in heard]
        )
        return Transcript(
            text,
            language,
            seconds,
            time.perf_counter() - started,
            avg_logprob=avg_logprob,
            no_speech_prob=no_speech_prob,
        )


def confidence(segments: list[tuple[float, float, int]]) -> tuple[float | None, float | None]:
    """Return the token-weighted mean log probability and the highest no-speech probability."""
    if not segments:
        return None, None
    tokens = sum(max(1, n) for _, _, n in segments)
    avg = sum(logprob * max(1, n) for logprob, _, n in segments) / tokens
    return round(avg, 4), round(max(p for _, p, _ in segments), 4)
