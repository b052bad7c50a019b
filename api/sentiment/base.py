"""What a sentiment detector answers, and the interface every backend offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from policy.sentiment import LABELS, NEGATIVE_ANGRY, NEGATIVE_DISTRESSED, NEUTRAL, POSITIVE

__all__ = [
    "LABELS",
    "NEGATIVE_ANGRY",
    "NEGATIVE_DISTRESSED",
    "NEUTRAL",
    "POSITIVE",
    "Reading",
    "SentimentDetector",
    "blank_reading",
    "reading_from_scores",
]

_LABEL_SET: Final = frozenset(LABELS)


@dataclass(frozen=True)
class Reading:
    """One message's sentiment: the label, its confidence, every label's score, the backend."""

    label: str
    score: float
    scores: dict[str, float] = field(default_factory=dict, hash=False)
    backend: str = ""

    def __post_init__(self) -> None:
        """Refuse labels outside the four and scores outside 0..1."""
        if self.label not in _LABEL_SET:
            raise ValueError(f"unknown sentiment label {self.label!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in 0..1, not {self.score!r}")

    def to_audit(self) -> dict[str, object]:
        """Return a JSON-safe dict (scores rounded to four places)."""
        return {
            "label": self.label,
            "score": round(self.score, 4),
            "scores": {label: round(value, 4) for label, value in self.scores.items()},
            "backend": self.backend,
        }


def reading_from_scores(scores: Mapping[str, float], *, backend: str) -> Reading:
    """Build a reading from scores over the four labels: the best label wins."""
    full = {label: min(1.0, max(0.0, float(scores.get(label, 0.0)))) for label in LABELS}
    label = max(LABELS, key=lambda name: full[name])  # ties go to the first (most negative)
    return Reading(label=label, score=full[label], scores=full, backend=backend)


def blank_reading(*, backend: str) -> Reading:
    """Return the reading of a message with no text: neutral, without asking a model."""
    return reading_from_scores({NEUTRAL: 1.0}, backend=backend)


class SentimentDetector(Protocol):
    """Reads the sentiment of debtor messages; synchronous, so callers run it in a thread."""

    name: str

    def load(self) -> None:
        """Load the model now (once; later calls return at once)."""

    def read(self, text: str, language: str | None = None) -> Reading:
        """Read one message; `language` ("de", "en") is a hint a backend may ignore."""

    def read_many(self, texts: Sequence[str], language: str | None = None) -> list[Reading]:
        """Read several messages in one batch, in order."""
