"""The keypad on a call (voice/inputs.py) and the turn's stage timings (voice/timings.py)."""

from __future__ import annotations

import pytest

from voice.inputs import HUMAN_REQUEST, Item, Keys, KeyState, Payload, Switch, press
from voice.speech_text import Spoken
from voice.timings import TurnTimings

OPTIONS = Spoken("Sagen Sie Ja oder drücken Sie 1.", [{"title": "Ja", "payload": "/affirm"}])


def _state(digits: str = "", **changes: object) -> KeyState:
    values: dict[str, object] = {
        "digits": digits,
        "opening": False,
        "agent_offered": False,
        "language": "de",
        "spoken": None,
    }
    values.update(changes)
    return KeyState(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("digit", "state", "digits", "item"),
    [
        ("2", _state("26"), "262", None),
        ("#", _state("260000117"), "", Keys("260000117")),
        ("#", _state(""), "", None),
        ("*", _state("2600"), "", None),
        ("9", _state(opening=True), "", Switch("en")),
        ("9", _state(), "9", None),  # after the opening, 9 is a digit
        ("0", _state(agent_offered=True), "", Payload(HUMAN_REQUEST)),
        ("1", _state(spoken=OPTIONS), "", Payload("/affirm")),
        ("1", _state("2", spoken=OPTIONS), "21", None),  # inside a number, a digit
        ("A", _state("12"), "12", None),
        ("5", _state("1" * 20), "1" * 20, None),  # at most 20 digits
    ],
)
def test_a_key(digit: str, state: KeyState, digits: str, item: Item | None) -> None:
    assert press(digit, state) == (digits, item)


def test_the_stages_follow_each_other_up_to_the_last_one_reached() -> None:
    timings = TurnTimings(last_speech_at=10.0, ended_at=10.2, turn_model_s=0.05, whisper_s=0.6)
    timings.transcribed_at = 10.5
    assert timings.stages() == pytest.approx(
        {"vad_wait": 0.2, "transcription": 0.3, "turn_model": 0.05, "whisper": 0.6}
    )
    timings.answered_at, timings.updated_at = 10.8, 10.85
    stages = timings.stages()
    assert stages["dialogue"] == pytest.approx(0.3) and stages["call_update"] == pytest.approx(0.05)
