"""Runaway transcripts are re-decoded or dropped, never passed on (voice/stt/guard.py, heard.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.dialogue.service import UNSURE_TRANSCRIPT, Gateway, Inbound, _read
from api.events.bus import make_bus
from api.rasa.client import RasaClient
from api.sentiment import Reading
from voice.heard import MIN_SURE_AVG_LOGPROB, hear, is_sure
from voice.stt import Transcript
from voice.stt.faster import FasterWhisperEngine
from voice.stt.guard import (
    REPEATS,
    TOO_LONG,
    guarded,
    longest_repeat,
    max_tokens,
    max_words,
    runaway,
    words,
)

# What Whisper base made of robotic German reading out a claim reference (issue 14):
# 112 words from about five seconds of audio.
LOOP = "Meinwechsel, " + ", ".join(["links"] * 111) + "."
LOOP_SECONDS = 5.2


def test_the_112_word_loop_is_a_runaway() -> None:
    assert len(words(LOOP)) == 112
    assert runaway(LOOP, LOOP_SECONDS) == TOO_LONG
    # Even with audio long enough for the words, it repeats itself.
    assert runaway(LOOP, 60.0) == REPEATS
    assert longest_repeat(words(LOOP)) == (111, 111)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("Ich kann höchstens 50 Euro im Monat zahlen.", 3.5),
        ("Mein Aktenzeichen ist 2 6 0 0 0 0 1 1 7.", 5.0),
        ("Mein Aktenzeichen ist zwei sechs null null null null eins eins sieben.", 5.0),
        ("Ja, ja, ja.", 1.0),
        ("Nein, nein, das stimmt so nicht, nein.", 2.0),
        ("Ja.", 0.3),
        ("I would like to pay in instalments, please, in instalments.", 3.0),
        ("", 0.0),
    ],
)
def test_what_people_say_is_no_runaway(text: str, seconds: float) -> None:
    assert runaway(text, seconds) is None


def test_a_loop_inside_one_hyphenated_word_is_a_runaway() -> None:
    # The careful decode of a robotic reference, once: one "word" of 60 letters.
    text = "Mein Akt und ich und ich das mein Ex-N-N-N-N-N-Un-M" + "-E" * 20 + "-"
    assert runaway(text, 4.8) == REPEATS
    assert runaway("Ich habe eine Inkasso-Rechnung für den Strom-Vertrag bekommen.", 3.0) is None


def test_a_loop_inside_a_number_is_a_runaway() -> None:
    assert runaway("2x 00000134555555555,", 2.8) == REPEATS
    assert runaway("Mein Aktenzeichen ist 260000117, IBAN DE89370400440532013000.", 5.0) is None


def test_a_phrase_said_over_and_over_is_a_runaway() -> None:
    text = "Ich zahle am Montag. " * 6
    assert runaway(text, 30.0) == REPEATS  # 18 words, a three-word loop
    assert runaway("Danke. " * 12, 30.0) == REPEATS


def test_the_bounds_follow_the_audio() -> None:
    assert max_words(0.0) == 4 and max_words(1.0) == 12 and max_words(5.2) == 45
    assert max_tokens(5.2) > max_words(5.2)
    counted = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn"
    assert runaway(counted, 1.0) == TOO_LONG and runaway(counted, 2.0) is None


def _transcript(text: str, **extra: Any) -> Transcript:
    return Transcript(text, "de", LOOP_SECONDS, 1.0, **extra)


def test_a_runaway_is_decoded_again_carefully() -> None:
    calls: list[bool] = []

    def decode(careful: bool) -> Transcript:
        calls.append(careful)
        return _transcript("Mein Aktenzeichen ist 260000117." if careful else LOOP)

    result = guarded(decode)
    assert calls == [False, True]
    assert result.text == "Mein Aktenzeichen ist 260000117."
    assert result.redecoded == TOO_LONG and result.discarded is None
    assert result.elapsed_seconds == 2.0


def test_a_second_runaway_is_dropped() -> None:
    result = guarded(lambda careful: _transcript(LOOP))
    assert result.text == "" and result.discarded == TOO_LONG and result.redecoded == TOO_LONG


def test_a_good_transcript_is_decoded_once() -> None:
    calls: list[bool] = []

    def decode(careful: bool) -> Transcript:
        calls.append(careful)
        return _transcript("Ja, das passt.")

    assert guarded(decode).text == "Ja, das passt." and calls == [False]


def test_the_line_never_passes_a_runaway_on() -> None:
    # An engine without the guard (a custom one) still cannot reach the dialogue.
    heard = hear(_transcript(LOOP, avg_logprob=-0.2))
    assert heard.text == "" and heard.dropped == TOO_LONG and not heard.sure
    dropped = hear(_transcript("", discarded=REPEATS))
    assert dropped.text == "" and dropped.dropped == REPEATS


@pytest.mark.parametrize(
    ("avg_logprob", "no_speech_prob", "sure"),
    [
        (None, None, True),  # the engine does not say
        (-0.1, 0.01, True),
        (MIN_SURE_AVG_LOGPROB + 0.01, 0.1, True),
        (MIN_SURE_AVG_LOGPROB - 0.01, 0.1, False),
        (-1.3, 0.0, False),  # "… mega mal in der S-Dunkan"
        (-0.2, 0.9, False),  # Whisper thought there was no speech
    ],
)
def test_how_sure_a_transcript_is(
    avg_logprob: float | None, no_speech_prob: float | None, sure: bool
) -> None:
    assert is_sure(avg_logprob, no_speech_prob) is sure
    heard = hear(_transcript("2 6 0 0 0 0 1 1 7", avg_logprob=avg_logprob))
    assert heard.text == "260000117"


# --- the engine: its model loops, the guard decodes again -------------------------------


@dataclass
class _Segment:
    text: str
    avg_logprob: float
    no_speech_prob: float
    tokens: list[int]


@dataclass
class _LoopingModel:
    """A stand-in for CTranslate2's WhisperModel that loops unless decoded carefully."""

    careful_text: str
    options: list[dict[str, Any]] = field(default_factory=list)

    def transcribe(self, audio: Any, **options: Any) -> tuple[list[_Segment], None]:
        self.options.append(options)
        if options["initial_prompt"] is None:
            return [_Segment(self.careful_text, -0.4, 0.02, [1] * 8)], None
        return [_Segment(LOOP, -0.15, 0.01, [1] * 200)], None


@pytest.mark.parametrize(
    ("careful_text", "heard"),
    [("Mein Aktenzeichen ist 260000117.", "Mein Aktenzeichen ist 260000117."), (LOOP, "")],
)
def test_faster_whisper_decodes_a_loop_again_without_the_prompt(
    tmp_path: Path, careful_text: str, heard: str
) -> None:
    engine = FasterWhisperEngine(model="unused", cache_dir=tmp_path)
    model = _LoopingModel(careful_text)
    engine._model = model  # type: ignore[assignment]
    audio = np.zeros(int(LOOP_SECONDS * 16000), dtype=np.float32)
    result = engine.transcribe(audio, language="de")
    assert result.text == heard and result.redecoded == TOO_LONG
    first, careful = model.options
    assert first["initial_prompt"] and careful["initial_prompt"] is None
    assert careful["temperature"][0] > 0 and first["temperature"][0] == 0
    assert first["max_new_tokens"] == careful["max_new_tokens"] == max_tokens(LOOP_SECONDS)
    assert result.avg_logprob == -0.4 and result.no_speech_prob == 0.02


# --- the gateway reads no mood from an unsure transcript -------------------------------


class _CountingDetector:
    """A sentiment detector that records what it was asked to read."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def load(self) -> None:
        """Nothing to load."""

    def read(self, text: str, language: str | None = None) -> Reading:
        self.seen.append(text)
        return Reading(label="negative_angry", score=0.63, scores={"negative_angry": 0.63})


async def test_the_gateway_reads_no_mood_from_an_unsure_transcript() -> None:
    detector = _CountingDetector()
    rasa = RasaClient("http://127.0.0.1:9")
    gateway = Gateway(rasa=rasa, bus=make_bus(None), sentiment=detector)  # type: ignore[arg-type]
    garbled = "Hallo, mega mal in der S-Dunkan."
    try:
        unsure = Inbound("voice:CA1", "voice", garbled, {"language": "de", UNSURE_TRANSCRIPT: True})
        sure = Inbound("voice:CA1", "voice", garbled, {"language": "de"})
        assert await _read(gateway, unsure) is None
        reading = await _read(gateway, sure)
        assert reading is not None and reading.label == "negative_angry"
        assert detector.seen == [garbled]
    finally:
        await rasa.aclose()
