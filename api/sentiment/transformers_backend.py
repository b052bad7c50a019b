"""A Hugging Face `transformers` text-classification model as a sentiment backend.

The model is a hub id or a local folder (setting `sentiment_model`); its labels map onto
our four through `DEFAULT_LABEL_MAP` plus the overrides of `sentiment_label_map`. Scores of
model labels that map to the same label add up, and the result is normalised, so
multi-label (sigmoid) emotion models give a distribution too. A model label without a
mapping is refused when the model loads, not guessed at.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from api.sentiment.base import (
    LABELS,
    NEGATIVE_ANGRY,
    NEGATIVE_DISTRESSED,
    NEUTRAL,
    POSITIVE,
    Reading,
    blank_reading,
    reading_from_scores,
)
from api.sentiment.errors import SentimentConfigError, UnmappedLabels

_A, _D, _N, _P = NEGATIVE_ANGRY, NEGATIVE_DISTRESSED, NEUTRAL, POSITIVE

# Keys are normalised model labels (lower case, "_"/"-" as spaces). A plain "negative"
# becomes angry: in collection chats most generic negativity is aimed at the collector,
# and both negative labels count alike for a negative trend.
DEFAULT_LABEL_MAP: Final[Mapping[str, str]] = MappingProxyType(
    {
        # negative / neutral / positive (cardiffnlp, oliverguhr german-sentiment, ...)
        "negative": _A,
        "neg": _A,
        "negativ": _A,
        "very negative": _A,
        "neutral": _N,
        "neu": _N,
        "positive": _P,
        "pos": _P,
        "positiv": _P,
        "very positive": _P,
        # star ratings (nlptown bert-base-multilingual-uncased-sentiment)
        "1 star": _A,
        "2 stars": _A,
        "3 stars": _N,
        "4 stars": _P,
        "5 stars": _P,
        # emotions (Ekman, GoEmotions, j-hartmann emotion-english-distilroberta, ...)
        "anger": _A,
        "angry": _A,
        "annoyance": _A,
        "disgust": _A,
        "disapproval": _A,
        "wut": _A,
        "ärger": _A,
        "sadness": _D,
        "sad": _D,
        "fear": _D,
        "grief": _D,
        "nervousness": _D,
        "remorse": _D,
        "embarrassment": _D,
        "disappointment": _D,
        "trauer": _D,
        "angst": _D,
        "surprise": _N,
        "realization": _N,
        "confusion": _N,
        "curiosity": _N,
        "desire": _N,
        "no emotion": _N,
        "joy": _P,
        "happy": _P,
        "love": _P,
        "gratitude": _P,
        "optimism": _P,
        "relief": _P,
        "approval": _P,
        "admiration": _P,
        "amusement": _P,
        "caring": _P,
        "excitement": _P,
        "pride": _P,
        "freude": _P,
        # our own labels, for models fine-tuned on data/sentiment
        **{label.replace("_", " "): label for label in LABELS},
    }
)


def normalise_label(label: str) -> str:
    """Lower-case a model label and spell "_"/"-" as spaces."""
    return " ".join(label.lower().replace("_", " ").replace("-", " ").split())


class TransformersDetector:
    """Sentiment from a `transformers` text-classification pipeline."""

    name = "transformers"

    def __init__(
        self,
        *,
        model: str,
        label_map: Mapping[str, str] | None = None,
        device: int | str = -1,
        batch_size: int = 16,
    ) -> None:
        """Remember the model and the label mapping; load nothing yet."""
        mapping = {**DEFAULT_LABEL_MAP}
        for source, target in (label_map or {}).items():
            if target not in LABELS:
                raise SentimentConfigError(
                    f"label map: {source!r} -> {target!r}, not one of {', '.join(LABELS)}"
                )
            mapping[normalise_label(source)] = target
        self.model = model
        self.label_map: Mapping[str, str] = MappingProxyType(mapping)
        self.device = device
        self.batch_size = batch_size
        self._pipeline: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the pipeline once and check that every model label has a mapping."""
        if self._pipeline is not None:
            return
        with self._lock:
            if self._pipeline is not None:
                return
            from transformers import pipeline  # heavy import (torch): only when chosen

            classify = pipeline(
                "text-classification", model=self.model, top_k=None, device=self.device
            )
            id2label = classify.model.config.id2label or {}
            model_labels = {str(label) for label in id2label.values()}
            unmapped = [
                label for label in model_labels if normalise_label(label) not in self.label_map
            ]
            if unmapped:
                raise UnmappedLabels(self.model, unmapped)
            self._pipeline = classify

    def read(self, text: str, language: str | None = None) -> Reading:
        """Read one message (the model decides how it handles the language)."""
        return self.read_many([text], language)[0]

    def read_many(self, texts: Sequence[str], language: str | None = None) -> list[Reading]:
        """Read several messages in batches of `batch_size`."""
        self.load()
        readings: list[Reading | None] = [None] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if todo:
            outputs = self._pipeline(
                [texts[i].strip() for i in todo], batch_size=self.batch_size, truncation=True
            )
            for i, output in zip(todo, outputs, strict=True):
                readings[i] = self._reading(output)
        return [reading or blank_reading(backend=self.name) for reading in readings]

    def _reading(self, output: Sequence[Mapping[str, Any]]) -> Reading:
        """Fold one pipeline answer (all model labels with scores) onto our labels."""
        totals = dict.fromkeys(LABELS, 0.0)
        for item in output:
            totals[self.label_map[normalise_label(str(item["label"]))]] += float(item["score"])
        total = sum(totals.values())
        if total > 0:
            totals = {label: value / total for label, value in totals.items()}
        return reading_from_scores(totals, backend=self.name)
