"""One small exception hierarchy for the sentiment detectors; each error carries its values."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class SentimentError(Exception):
    """Base class of every error the sentiment detectors raise."""


class SentimentConfigError(SentimentError):
    """A setting that names no usable backend, model or label mapping."""


class UnmappedLabels(SentimentConfigError):
    """A classification model whose labels have no entry in the label mapping."""

    def __init__(self, model: str, labels: Iterable[str]) -> None:
        """Keep the model and the labels that could not be mapped."""
        self.model = model
        self.labels = tuple(sorted(labels))
        super().__init__(
            f"model {model!r}: no mapping for labels {', '.join(self.labels)}; "
            "set QUITT_SENTIMENT_LABEL_MAP"
        )


class InvalidTrainingData(SentimentError):
    """A training file that is missing, empty or has a malformed line."""

    def __init__(self, path: Path | str, problem: str) -> None:
        """Keep the file and the problem."""
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
