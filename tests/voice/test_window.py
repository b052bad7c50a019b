"""voice.stt.window: Whisper's encoder sees a short utterance in a 10 s window, not 30 s."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from domain.config import Settings
from tests.support.speech import telephone_mulaw
from voice.audio import telephone_to_model
from voice.stt import build_engine
from voice.stt import window as window_module
from voice.stt.faster import FasterWhisperEngine
from voice.stt.guard import says_it_twice
from voice.stt.window import (
    FULL_FRAMES,
    MIN_SILENCE_FRAMES,
    content_frames,
    fit_window,
    window_frames,
)


def _padded(content: int, *, peak: float = 1.5) -> npt.NDArray[np.float32]:
    """Features as faster-whisper hands them to the encoder: audio, then zeros to 30 s."""
    rng = np.random.default_rng(3)
    features = np.zeros((80, FULL_FRAMES), dtype=np.float32)
    features[:, :content] = rng.uniform(peak - 2.0, peak, (80, content)).astype(np.float32)
    features[0, content - 1] = peak
    return features


def test_window_settings_in_seconds() -> None:
    assert window_frames(10) == 1000
    assert window_frames(0) == window_frames(30) == window_frames(45) == FULL_FRAMES
    assert window_frames(0.01) == 100


def test_a_short_utterance_gets_the_window_and_whisper_silence_after_it() -> None:
    features = _padded(300)
    assert content_frames(features) == 300
    fitted = fit_window(features, 1000)
    assert fitted.shape == (80, 1000) and fitted.dtype == np.float32
    assert np.array_equal(fitted[:, :300], features[:, :300])
    # Whisper's silence: 8 decades below the loudest frame, (x + 4) / 4 scaled.
    assert np.allclose(fitted[:, 300:], 1.5 - 2.0)


def test_a_longer_utterance_keeps_five_seconds_of_silence_in_whole_steps() -> None:
    fitted = fit_window(_padded(830), 1000)
    assert fitted.shape == (80, 1400)  # 830 + 500, rounded up to a step of 100
    assert content_frames(fitted) == 1400
    assert fitted.shape[1] - 830 >= MIN_SILENCE_FRAMES


def test_the_full_window_is_never_exceeded_and_leaves_whisper_as_it_was() -> None:
    long = _padded(2800)
    assert fit_window(long, 1000).shape == (80, FULL_FRAMES)
    assert np.array_equal(fit_window(long, 1000)[:, :2800], long[:, :2800])
    short = _padded(300)
    assert fit_window(short, FULL_FRAMES) is short  # the setting 0 or 30 s
    batched = short[np.newaxis]
    assert fit_window(batched, 1000) is batched  # a batch passes unchanged


def test_silence_alone_is_cut_to_the_window() -> None:
    silent = np.zeros((80, FULL_FRAMES), dtype=np.float32)
    assert fit_window(silent, 1000).shape == (80, 1000)


@pytest.fixture(scope="module")
def windowed() -> Iterator[FasterWhisperEngine]:
    """The app's engine as the default settings build it (10 s window)."""
    engine = build_engine(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(engine, FasterWhisperEngine) and engine.window_seconds == 10
    engine.load()
    yield engine


def test_the_encoder_sees_the_window_and_the_words_come_through(
    windowed: FasterWhisperEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes: list[tuple[int, ...]] = []

    def spy(features: npt.NDArray[np.float32], window: int) -> npt.NDArray[np.float32]:
        fitted = fit_window(features, window)
        shapes.append(fitted.shape)
        return fitted

    monkeypatch.setattr(window_module, "fit_window", spy)
    mulaw = telephone_mulaw("Ich kann fünfzig Euro im Monat zahlen.", "de", "pico-de")
    heard = windowed.transcribe(telephone_to_model(mulaw), language="de")
    assert shapes and all(shape == (80, 1000) for shape in shapes)
    words = heard.text.lower()
    assert "50" in words and "euro" in words and "monat" in words, heard


@dataclass(frozen=True)
class _Segment:
    text: str
    avg_logprob: float
    no_speech_prob: float
    tokens: list[int]


@dataclass
class _WindowedModel:
    """A stand-in for the windowed WhisperModel: one text in the window, one in 30 s."""

    short: _Segment
    window: int = 1000
    full: _Segment = _Segment("Hallo, ich rufe wegen einer Rechnung an.", -0.2, 0.01, [1] * 9)
    calls: list[bool] = field(default_factory=list)

    def transcribe(self, audio: Any, **options: Any) -> tuple[list[_Segment], None]:
        in_full = window_module._FULL.get()
        self.calls.append(in_full)
        return [self.full if in_full else self.short], None


@pytest.mark.parametrize(
    ("short", "widened"),
    [
        (_Segment("Hallo, ich rufe wegen einer Rechnung an.", -0.3, 0.01, [1] * 9), False),
        (_Segment("Hallo, ich rufe wegen einer Rechnung an.", -0.7, 0.01, [1] * 9), True),
        (_Segment("Hallo, ich rufe wegen einer Rechnung an.", -0.3, 0.6, [1] * 9), True),
        (_Segment("Hallo, ich rufe an. Hallo, ich rufe an.", -0.3, 0.01, [1] * 9), True),
    ],
    ids=["sure", "unsure", "no speech", "said twice"],
)
def test_a_doubtful_text_from_the_window_is_decoded_again_in_the_full_window(
    tmp_path: Path, short: _Segment, widened: bool
) -> None:
    engine = FasterWhisperEngine(model="unused", cache_dir=tmp_path)
    model = _WindowedModel(short)
    engine._model = model  # type: ignore[assignment]
    result = engine.transcribe(np.zeros(3 * 16000, dtype=np.float32), language="de")
    assert model.calls == ([False, True] if widened else [False])
    assert result.widened is widened
    assert result.text == "Hallo, ich rufe wegen einer Rechnung an."
    assert window_module._FULL.get() is False  # only for the second decode


def test_a_repeated_ending_is_told_from_a_repeated_word() -> None:
    assert says_it_twice("Hallo, ich rufe an. Hallo, ich rufe an.")
    assert says_it_twice("Ich kann nicht, ich kann nicht")
    assert not says_it_twice("Ja, ja, ja.")
    assert not says_it_twice("Mein Aktenzeichen ist 2 6 0 0 0 0 1 1 7.")
    assert not says_it_twice("")
