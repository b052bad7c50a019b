"""Smart Turn v3: has the caller finished their turn? An audio model, run with onnxruntime.

Smart Turn v3.2 (Daily, BSD-2-Clause; `scripts/install-turn-model.sh` takes the 8.7 MB
ONNX file out of the pipecat-ai wheel) reads the last 8 s of an utterance at 16 kHz as
Whisper log-mel features and returns the probability that the speaker is done. It hears
intonation and unfinished phrases ("Meine Nummer ist zwei sechs …"), which a silence
timer cannot. Input as pipecat's `LocalSmartTurnAnalyzerV3` prepares it: the audio up to
the pause, cut to its last 8 s or padded with silence in front.

The model is loaded once per process; a missing file is logged once, and the line then
ends turns on silence alone, as before (`voice/turn.py`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from voice.turn_features import last_window, log_mel

logger = logging.getLogger(__name__)

Samples = npt.NDArray[np.float32]


class TurnModel(Protocol):
    """An end-of-turn model: the probability that 16 kHz audio ends a finished turn."""

    def probability(self, audio: Samples) -> float:
        """Return P(the turn is complete) for the audio up to now (CPU-bound)."""
        ...


class SmartTurn:
    """Smart Turn v3 on onnxruntime, one CPU thread, loaded once."""

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        self.path = path
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the ONNX model (once; later calls return at once)."""
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort  # faster-whisper's dependency, pinned in the app lock

            options = ort.SessionOptions()
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.inter_op_num_threads = 1
            options.intra_op_num_threads = self.threads
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            started = time.perf_counter()
            self._session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            logger.info(
                "turn model %s loaded in %.2f s", self.path.name, time.perf_counter() - started
            )

    def probability(self, audio: Samples) -> float:
        """Return P(complete) for 16 kHz mono audio ending at the caller's pause."""
        self.load()
        features = log_mel(last_window(audio))[np.newaxis]
        (output,) = self._session.run(None, {"input_features": features})
        return float(np.asarray(output).reshape(-1)[0])


_models: dict[Path, SmartTurn | None] = {}
_models_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def turn_model(path: Path | None) -> SmartTurn | None:
    """Return the process's model for a file; None (said once) when it is missing or broken."""
    if path is None:
        return None
    key = Path(path).resolve()
    with _models_lock:
        if key in _models:
            return _models[key]
        model: SmartTurn | None = SmartTurn(key)
        try:
            if not key.is_file():
                raise FileNotFoundError(key)
            assert model is not None
            model.load()
        except Exception as exc:  # any failure means: no model, turns end on silence
            logger.warning(
                "voice: no end-of-turn model (%s: %s); turns end after the silence setting "
                "alone (run scripts/install-turn-model.sh)",
                type(exc).__name__,
                exc,
            )
            model = None
        _models[key] = model
        return model


def _thread() -> ThreadPoolExecutor:
    """Return the turn model's own thread (Whisper's may be busy with the same caller)."""
    global _executor
    with _models_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quitt-turn")
        return _executor


async def probability_async(model: TurnModel, audio: Callable[[], Samples]) -> float:
    """Prepare the audio and run the model off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_thread(), lambda: model.probability(audio()))
