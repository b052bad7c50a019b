"""End of turn on a call: a short pause, Smart Turn v3 and the words (voice/turn.py).

Callers are said by the tests' natural voices, as a phone line carries them (8 kHz
μ-law). The turn model is the real Smart Turn v3.2 file that `make install` puts in
var/models; Whisper is played by a transcriber whose text and timing the test sets, so
that each test can say when the transcript is ready relative to the caller's audio.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from domain.config import get_settings
from tests.support.phone_audio import frames, silence
from tests.support.required import missing
from tests.support.speech import require_voice, telephone_mulaw
from voice.audio import telephone_to_model
from voice.heard import Heard
from voice.smart_turn import SmartTurn, turn_model
from voice.turn import Turn, TurnSettings, TurnTaker, open_number
from voice.turn_features import last_window, log_mel
from voice.vad import Utterance, UtteranceDetector

MODEL = get_settings().voice_turn_model


@pytest.fixture(scope="module")
def model() -> SmartTurn:
    """The Smart Turn v3.2 model as `make install` installs it."""
    if MODEL is None or not MODEL.is_file():
        missing(f"{MODEL} is missing: run scripts/install-turn-model.sh")
    loaded = turn_model(MODEL)
    assert loaded is not None
    return loaded


def _said(text: str, language: str = "de") -> bytes:
    # SVOX Pico says the same every time (Piper's English varies from run to run).
    voice = "pico-de" if language == "de" else "pico-en"
    require_voice(voice)
    return telephone_mulaw(text, language, voice)


@dataclass
class Transcriber:
    """Whisper's stand-in: the texts in order; each one waits for `release` if given."""

    texts: list[str]
    release: asyncio.Event | None = None
    heard: list[int] = field(default_factory=list)  # audio length of each call

    async def __call__(self, utterance: Utterance) -> Heard:
        """Return the next text once released."""
        self.heard.append(len(utterance.audio))
        text = self.texts[min(len(self.heard), len(self.texts)) - 1]
        if self.release is not None:
            await self.release.wait()
        return Heard(text, True, seconds=0.1)


def _taker(
    transcriber: Transcriber, model: SmartTurn | None, turns: list[Turn], **timing: int
) -> TurnTaker:
    return TurnTaker(
        detector=UtteranceDetector(),
        settings=TurnSettings(**timing),
        model=model,
        transcribe=transcriber,
        on_turn=turns.append,
    )


async def _feed(taker: TurnTaker, audio: bytes) -> None:
    for frame in frames(audio):
        taker.feed(frame)
        await asyncio.sleep(0)


async def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("text", "open_"),
    [
        ("Mein Aktenzeichen ist 2 6 0", True),
        ("Mein Aktenzeichen ist zwei sechs null", True),
        ("My reference is two six zero zero.", True),
        ("Ich zahle 50", True),
        ("Mein Aktenzeichen ist 260000117.", False),  # a whole reference
        ("2 6 0 0 0 0 1 1 7", False),
        ("Geboren am 14.03.1987.", False),
        ("Ich kann höchstens 50 Euro im Monat zahlen.", False),
        ("Ja, das passt.", False),
        ("", False),
    ],
)
def test_words_that_end_in_an_open_number(text: str, open_: bool) -> None:
    assert open_number(text) is open_


def test_the_features_are_whisper_feature_extractor_s() -> None:
    from transformers import WhisperFeatureExtractor

    rng = np.random.default_rng(3)
    audio = last_window((rng.standard_normal(40_000) * 0.1).astype(np.float32))
    extractor = WhisperFeatureExtractor(chunk_length=8)  # type: ignore[no-untyped-call]
    reference = extractor(
        audio, sampling_rate=16000, return_tensors="np", do_normalize=True
    ).input_features[0]
    assert log_mel(audio).shape == (80, 800)
    assert np.abs(log_mel(audio) - reference).max() < 1e-4


def test_the_model_hears_whether_a_caller_is_done(model: SmartTurn) -> None:
    done = _said("I would like to pay the whole amount at the end of the month.", "en")
    pause = silence(200)
    assert model.probability(telephone_to_model(silence(300) + done + pause)) > 0.5
    # Cut off in the middle of the sentence ("… at the end"): not done.
    cut = done[: int(len(done) * 0.7)]
    assert model.probability(telephone_to_model(silence(300) + cut + pause)) < 0.5


async def test_a_finished_sentence_ends_at_the_short_pause(model: SmartTurn) -> None:
    turns: list[Turn] = []
    transcriber = Transcriber(["Ich kann höchstens 50 Euro im Monat zahlen."])
    taker = _taker(transcriber, model, turns)
    speech = _said("Ich kann höchstens fünfzig Euro im Monat zahlen.")
    await _feed(taker, silence(300) + speech + silence(200))
    await _until(lambda: bool(turns))  # no more audio needed: 200 ms of pause were enough
    (turn,) = turns
    assert turn.timings.ended_by == "model"
    assert turn.timings.ended_at - turn.timings.last_speech_at < 0.6
    assert turn.heard is not None and (await turn.heard).text.startswith("Ich kann")
    assert transcriber.heard == [len(turn.utterance.audio)]  # one Whisper run, reused


async def test_speech_after_the_pause_goes_on_in_the_same_turn(model: SmartTurn) -> None:
    turns: list[Turn] = []
    release = asyncio.Event()
    transcriber = Transcriber(["Ja,", "Ja, das passt."], release=release)
    taker = _taker(transcriber, model, turns)
    await _feed(taker, silence(300) + _said("Ja,") + silence(200))
    # The caller goes on before the transcript of "Ja" is ready.
    await _feed(taker, silence(200) + _said("das passt."))
    release.set()
    await _feed(taker, silence(200))
    await _until(lambda: bool(turns))
    (turn,) = turns
    assert turn.heard is not None and (await turn.heard).text == "Ja, das passt."
    assert len(transcriber.heard) == 2 and transcriber.heard[1] == len(turn.utterance.audio)


async def test_a_number_being_dictated_is_not_cut_at_a_pause(model: SmartTurn) -> None:
    first = _said("Mein Aktenzeichen ist zwei sechs null")
    rest = _said("null null eins eins sieben.")
    texts = ["Mein Aktenzeichen ist 2 6 0", "Mein Aktenzeichen ist 260001117."]
    # A second's pause mid-number: longer than voice_silence_ms (700), shorter than
    # voice_dictation_pause_ms (1500).
    turns: list[Turn] = []
    taker = _taker(Transcriber(texts), model, turns, silence_ms=700, dictation_ms=1500)
    await _feed(taker, silence(300) + first + silence(200))
    await taker.settled()
    await _feed(taker, silence(800) + rest + silence(200))
    await taker.settled()
    await _feed(taker, silence(300))
    (turn,) = turns
    assert turn.heard is not None and (await turn.heard).text.endswith("260001117.")
    assert len(turn.utterance.audio) > len(first) + len(rest)
    # Silence alone (no model) ends the turn mid-number, as the line did before.
    cut: list[Turn] = []
    plain = _taker(Transcriber(texts), None, cut, silence_ms=700)
    await _feed(plain, silence(300) + first + silence(1000) + rest + silence(1000))
    assert len(cut) == 2


async def test_an_unfinished_turn_waits_for_the_longest_pause(model: SmartTurn) -> None:
    done = _said("I would like to pay the whole amount at the end of the month.", "en")
    cut = done[: int(len(done) * 0.7)]
    turns: list[Turn] = []
    taker = _taker(Transcriber(["I would like to pay the whole amount at"]), model, turns)
    await _feed(taker, silence(300) + cut + silence(200))
    await taker.settled()
    assert turns == []  # the model heard an unfinished sentence: keep listening
    await _feed(taker, silence(600))
    (turn,) = turns
    assert turn.timings.ended_by == "silence"
    assert turn.heard is not None  # the transcript made at the pause is reused


async def test_without_a_model_silence_ends_the_turn_and_the_early_text_is_reused() -> None:
    turns: list[Turn] = []
    transcriber = Transcriber(["Ich möchte in Raten zahlen."])
    taker = _taker(transcriber, None, turns, silence_ms=700)
    await _feed(taker, silence(300) + _said("Ich möchte in Raten zahlen.") + silence(1000))
    (turn,) = turns  # Whisper began at the short pause, on the same audio: no second run
    assert turn.timings.ended_by == "silence" and turn.heard is not None
    assert transcriber.heard == [len(turn.utterance.audio)]


async def test_no_short_pause_is_the_line_as_it_was(model: SmartTurn) -> None:
    turns: list[Turn] = []
    transcriber = Transcriber(["Ja, das passt."])
    taker = _taker(transcriber, model, turns, pause_ms=0)
    await _feed(taker, silence(300) + _said("Ja, das passt.") + silence(800))
    (turn,) = turns
    assert turn.heard is None and transcriber.heard == [] and taker.model is None


async def test_a_hang_up_mid_sentence_keeps_the_words() -> None:
    turns: list[Turn] = []
    taker = _taker(Transcriber(["Ich möchte"]), None, turns)
    await _feed(taker, silence(300) + _said("Ich möchte gerne mit jemandem sprechen"))
    last = taker.flush()
    assert turns == [] and last is not None and last.timings.ended_by == "hangup"
    await taker.close()


def test_a_missing_model_is_said_once_and_the_line_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "smart-turn.onnx"
    with caplog.at_level(logging.WARNING, logger="voice.smart_turn"):
        assert turn_model(missing) is None
        assert turn_model(missing) is None
    assert len([r for r in caplog.records if "no end-of-turn model" in r.message]) == 1
    assert turn_model(None) is None
