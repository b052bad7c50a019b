"""The gateway reads the mood of words only: references and dates cost no model call."""

from __future__ import annotations

import pytest

from api.dialogue.service import Gateway, Inbound, _read, has_words
from api.events.bus import make_bus
from api.rasa.client import RasaClient
from api.sentiment import Reading


class _CountingDetector:
    """A detector that records what it was asked to read."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def load(self) -> None:
        """Nothing to load."""

    def read(self, text: str, language: str | None = None) -> Reading:
        self.seen.append(text)
        return Reading(label="neutral", score=0.9, scores={"neutral": 0.9})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("260000117", False),
        ("14.03.1985", False),
        ("  50,00 € ", False),
        ("!!!", False),
        ("", False),
        ("50 Euro", True),
        ("Ich kann nicht zahlen", True),
        ("ÄÖÜ", True),
    ],
)
def test_has_words(text: str, expected: bool) -> None:
    assert has_words(text) is expected


async def test_no_reading_for_a_message_without_letters() -> None:
    detector = _CountingDetector()
    rasa = RasaClient("http://127.0.0.1:9")
    gateway = Gateway(rasa=rasa, bus=make_bus(None), sentiment=detector)  # type: ignore[arg-type]
    try:
        numbers = Inbound(sender="s1", channel="rest", text="14.03.1985", metadata={})
        words = Inbound(sender="s1", channel="rest", text="Das ist Betrug!", metadata={})
        assert await _read(gateway, numbers) is None
        reading = await _read(gateway, words)
        assert reading is not None and reading.label == "neutral"
        assert detector.seen == ["Das ist Betrug!"]
    finally:
        await rasa.aclose()
