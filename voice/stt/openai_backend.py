"""openai-whisper (PyTorch): the configurable backend, for OpenAI's own checkpoints.

`QUITT_STT_MODEL` names an official model ("base", "small", …, downloaded into the cache
folder on first use, which needs the internet) or a local `.pt` checkpoint in Whisper's
format (`{"dims": …, "model_state_dict": …}`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from voice.audio import SAMPLE_RATE
from voice.stt.engine import LANGUAGES, SpeechError, Transcript
from voice.stt.faster import confidence, normalise_language, pick_language
from voice.stt.guard import guarded, max_tokens
from voice.stt.prompts import DOMAIN_PROMPTS, prompt_for

if TYPE_CHECKING:
    from whisper.model import Whisper

logger = logging.getLogger(__name__)


class OpenAIWhisperEngine:
    """Whisper on PyTorch (CPU, float32), loaded once, thread-safe."""

    name = "openai-whisper"

    def __init__(
        self,
        *,
        model: str,
        cache_dir: Path,
        beam_size: int = 5,
        cpu_threads: int = 2,
        languages: tuple[str, ...] = LANGUAGES,
        prompts: Mapping[str, str] = DOMAIN_PROMPTS,
        temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        max_tokens: int | None = None,
    ) -> None:
        self.model_ref = model
        self.cache_dir = cache_dir
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads
        self.languages = languages
        self.prompts = prompts
        # Whisper's fallback: decode again, warmer, when the text looks like a loop.
        self.temperatures = temperatures
        self.max_tokens = max_tokens
        self.load_seconds: float | None = None
        self._model: Whisper | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the checkpoint once (later calls return at once)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            import torch
            import whisper  # PyTorch and the model code: imported when first loaded

            if self.cpu_threads > 0:
                torch.set_num_threads(self.cpu_threads)
            started = time.perf_counter()
            try:
                self._model = whisper.load_model(
                    self.model_ref, device="cpu", download_root=str(self.cache_dir)
                )
            except (OSError, RuntimeError, ValueError, KeyError) as exc:
                raise SpeechError(f"openai-whisper cannot load {self.model_ref}: {exc}") from exc
            self.load_seconds = time.perf_counter() - started
            logger.info("openai-whisper loaded (%s) in %.2f s", self.model_ref, self.load_seconds)

    def _language(self, model: Whisper, audio: npt.NDArray[np.float32]) -> str:
        """Detect the language among the allowed ones from the first 30 seconds."""
        import whisper

        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio), model.dims.n_mels)
        _, probabilities = model.detect_language(mel)
        assert isinstance(probabilities, dict)
        return pick_language(list(probabilities.items()), self.languages)

    def transcribe(
        self, audio: npt.NDArray[np.float32], *, language: str | None, prompt: str | None = None
    ) -> Transcript:
        """Transcribe 16 kHz mono audio; an unknown language is detected among de/en.

        Without a prompt the language's domain prompt primes Whisper; "" means none.
        A runaway result is decoded again carefully, then dropped (`guard.guarded`).
        """
        self.load()
        model = self._model
        assert model is not None
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        if samples.size == 0:
            return Transcript("", normalise_language(language, self.languages), 0.0, 0.0)
        chosen = normalise_language(language, self.languages) or self._language(model, samples)
        return guarded(lambda careful: self._decode(model, samples, chosen, prompt, careful))

    def _decode(
        self,
        model: Whisper,
        samples: npt.NDArray[np.float32],
        language: str,
        prompt: str | None,
        careful: bool,
    ) -> Transcript:
        """Decode once (tokens bounded by the audio); `careful`: no prompt, sampled."""
        started = time.perf_counter()
        seconds = samples.size / SAMPLE_RATE
        options: dict[str, Any] = {
            "language": language,
            "task": "transcribe",
            "fp16": False,  # the CPU has no half precision
            "initial_prompt": None if careful else prompt_for(language, prompt, self.prompts),
            "condition_on_previous_text": False,
            "verbose": None,
        }
        warm = tuple(t for t in self.temperatures if t > 0) or (0.2,)
        options["temperature"] = warm if careful else self.temperatures
        if self.beam_size > 1 and not careful:
            options["beam_size"] = self.beam_size
        # Bounded by what the audio can hold, so that a loop stops early.
        limit = max_tokens(seconds)
        if self.max_tokens is not None:
            limit = min(limit, self.max_tokens)
        options["sample_len"] = limit
        result = model.transcribe(samples, **options)
        text = str(result.get("text", "")).strip()
        segments = [s for s in result.get("segments", []) if isinstance(s, dict)]
        avg_logprob, no_speech_prob = confidence(
            [
                (
                    float(s.get("avg_logprob", 0.0)),
                    float(s.get("no_speech_prob", 0.0)),
                    len(s.get("tokens") or []),
                )
                for s in segments
            ]
        )
        return Transcript(
            text,
            language,
            seconds,
            time.perf_counter() - started,
            avg_logprob=avg_logprob,
            no_speech_prob=no_speech_prob,
        )
