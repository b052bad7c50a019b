"""What the sentiment engine may read of a hostile message: bounded and already normalised."""

from __future__ import annotations

import unicodedata

import pytest

from api.sentiment.embedding import MAX_READ_CHARS, engine_text


@pytest.mark.parametrize(
    "text", ["ﷺ" * 50, "😡💸🙈" * 1333, "⑽㍻ﬃ" * 400, "  Hallo  ", "\u202e\u200b" * 10]
)
def test_engine_text_is_bounded_and_never_expands_again(text: str) -> None:
    seen = engine_text(text)
    assert len(seen) <= MAX_READ_CHARS
    assert unicodedata.normalize("NFKC", seen) == seen  # the engine's own pass adds nothing


def test_engine_text_keeps_ordinary_messages() -> None:
    assert engine_text("  Ich kann höchstens 50 € im Monat zahlen. ") == (
        "Ich kann höchstens 50 € im Monat zahlen."
    )
