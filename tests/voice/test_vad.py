"""Utterance ends in 8 kHz μ-law: webrtcvad on 20 ms frames, with espeak-ng speech."""

from __future__ import annotations

import pytest

from tests.support.phone_audio import silence
from tests.support.speech import telephone_mulaw
from voice.vad import FRAME_BYTES, UtteranceDetector


def _feed(detector: UtteranceDetector, audio: bytes, chunk: int = FRAME_BYTES) -> tuple[int, list]:
    starts, utterances = 0, []
    for offset in range(0, len(audio), chunk):
        started, ended = detector.feed(audio[offset : offset + chunk])
        starts += started
        utterances += ended
    return starts, utterances


def test_one_sentence_is_one_utterance_ended_by_trailing_silence() -> None:
    speech = telephone_mulaw("Ich kann höchstens fünfzig Euro im Monat zahlen.", "de")
    detector = UtteranceDetector(silence_ms=700)
    starts, utterances = _feed(detector, silence(500) + speech + silence(1000))
    assert starts == 1 and len(utterances) == 1
    utterance = utterances[0]
    # Most of the sentence is voiced; the audio keeps the speech and a short tail.
    assert utterance.speech_ms >= 1000
    assert len(speech) * 0.8 <= len(utterance.audio) <= len(speech) + 8 * 1100
    assert not detector.in_speech


def test_silence_shorter_than_the_setting_does_not_end_the_utterance() -> None:
    first = telephone_mulaw("Ja", "de")
    second = telephone_mulaw("das passt", "de")
    audio = silence(300) + first + silence(400) + second + silence(1000)
    _, utterances = _feed(UtteranceDetector(silence_ms=700), audio)
    assert len(utterances) == 1
    _, split = _feed(UtteranceDetector(silence_ms=300), audio)
    assert len(split) == 2


def test_odd_chunk_sizes_are_reframed() -> None:
    audio = silence(200) + telephone_mulaw("Hallo", "de") + silence(1000)
    _, by_frame = _feed(UtteranceDetector(), audio)
    _, by_odd = _feed(UtteranceDetector(), audio, chunk=333)
    assert len(by_frame) == len(by_odd) == 1
    assert by_frame[0].audio == by_odd[0].audio


def test_silence_and_clicks_are_no_utterance() -> None:
    detector = UtteranceDetector(min_speech_ms=200)
    starts, utterances = _feed(detector, silence(3000))
    assert (starts, utterances) == (0, [])
    click = telephone_mulaw("t", "en")[: 8 * 100]
    _, utterances = _feed(detector, click + silence(1000))
    assert utterances == []


def test_flush_returns_what_a_caller_said_before_hanging_up() -> None:
    speech = telephone_mulaw("I would like to know how much I owe", "en")
    detector = UtteranceDetector()
    _, utterances = _feed(detector, silence(200) + speech[: len(speech) // 2])
    assert utterances == [] and detector.in_speech
    partial = detector.flush()
    assert partial is not None and partial.speech_ms >= 300
    assert detector.flush() is None


def test_aggressiveness_is_checked() -> None:
    with pytest.raises(ValueError):
        UtteranceDetector(aggressiveness=4)
