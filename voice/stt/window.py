"""A shorter encoder window for a short utterance: Whisper's work in a fraction of the time.

faster-whisper pads every utterance's log-mel features to Whisper's 30 s window (3000
frames of 10 ms) before the encoder. For a telephone turn of 2 to 4 s that padding is
nearly all the work: on two shared cores Whisper base's encoder took 1.56 s for 3000
frames, 0.29 s for 1000 and 0.16 s for 500, while decoding the 10 to 20 tokens of a
turn (beam 5) takes about a tenth of a second. CTranslate2 runs the encoder on any
number of frames up to 3000, so the window can end soon after the speech.

Whisper only ever saw 30 s windows, though, with the speech followed by silence. A
window that ends right after the speech garbles it (`make bench-voice`'s natural
voices: German WER 0.50, English 0.71), and faster-whisper's zero padding is not the
silence Whisper was trained on: its features are log10 power, clamped 8 decades below
the loudest frame and scaled by (x + 4) / 4, so silence lies at the loudest value − 2.
Hence `fit_window`: the speech, then Whisper's own silence, to at least `window_frames`
and at least `MIN_SILENCE_FRAMES` after the speech (up to the full window).

Measured on the natural voices (README): a 10 s window alone cost German 0.03 WER
against the full window, for a fifth of the time. The engine therefore decodes a
transcript Whisper is unsure of, or that says the same words twice, once more in the
full window (`full_window()`), which 5 of 115 natural-voice utterances needed; German
then lies about 0.01 above the full window, English level with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FULL_FRAMES: Final = 3000  # Whisper's 30 s window
FRAMES_PER_SECOND: Final = 100
# Silence after the speech that Whisper needs to end it cleanly: with 3 s of zeros
# German WER was 0.22, with 5 s or more of Whisper's silence 0.12 to 0.14.
MIN_SILENCE_FRAMES: Final = 500
# Windows grow in steps, so that CTranslate2 sees few distinct shapes.
STEP_FRAMES: Final = 100
# Features 8 decades below the loudest frame, scaled as Whisper scales them.
SILENCE_BELOW_PEAK: Final = 2.0

Features = npt.NDArray[np.float32]

# Set in a thread while Whisper must see its full window (a second decode, detection).
_FULL: ContextVar[bool] = ContextVar("quitt_whisper_full_window", default=False)


@contextmanager
def full_window() -> Iterator[None]:
    """Let the encoder see Whisper's full 30 s window in this thread, for a while."""
    token = _FULL.set(True)
    try:
        yield
    finally:
        _FULL.reset(token)


def window_frames(seconds: float) -> int:
    """Return the encoder window for a setting in seconds (0 or 30 and more: the full one)."""
    if seconds <= 0:
        return FULL_FRAMES
    return min(FULL_FRAMES, max(STEP_FRAMES, round(seconds * FRAMES_PER_SECOND)))


def content_frames(features: Features) -> int:
    """Return how many frames carry audio before faster-whisper's zero padding."""
    voiced = np.flatnonzero(np.any(features != 0, axis=0))
    return int(voiced[-1]) + 1 if voiced.size else 0


def fit_window(features: Features, window: int) -> Features:
    """Cut 30 s of padded features (mels × frames) to a window that holds the speech.

    The audio is kept whole, followed by Whisper's silence (the loudest value − 2) to
    `window` frames, to `MIN_SILENCE_FRAMES` after the audio, in steps of `STEP_FRAMES`,
    and never beyond the features given. Features of any other shape pass unchanged.
    """
    if features.ndim != 2 or window >= features.shape[-1]:
        return features
    content = content_frames(features)
    if not content:
        return features[:, :window]
    wanted = max(window, content + MIN_SILENCE_FRAMES)
    wanted = -(-wanted // STEP_FRAMES) * STEP_FRAMES
    size = min(features.shape[-1], wanted)
    if size <= content:
        return features[:, :size]
    silence = float(features[:, :content].max()) - SILENCE_BELOW_PEAK
    fitted = np.full((features.shape[0], size), silence, dtype=features.dtype)
    fitted[:, :content] = features[:, :content]
    return fitted


@cache
def windowed_model_class() -> type[Any]:
    """Return faster-whisper's WhisperModel with the encoder window of `fit_window`.

    Built when first asked for: faster-whisper is heavy to import. An instance's
    `window` (frames) is set after loading; FULL_FRAMES leaves Whisper as it was.
    """
    from faster_whisper import WhisperModel

    class WindowedWhisperModel(WhisperModel):  # type: ignore[misc]
        """WhisperModel whose encoder sees the speech in a window of `window` frames."""

        window: int = FULL_FRAMES

        def encode(self, features: Features) -> Any:
            """Encode the features in the instance's window (faster-whisper pads to 30 s)."""
            window = FULL_FRAMES if _FULL.get() else self.window
            return super().encode(fit_window(features, window))

    return WindowedWhisperModel
