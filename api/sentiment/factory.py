"""Pick the sentiment backend the settings ask for."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from api.sentiment.base import SentimentDetector
from api.sentiment.embedding import EmbeddingDetector
from api.sentiment.errors import SentimentConfigError
from api.sentiment.transformers_backend import TransformersDetector


class SentimentSettings(Protocol):
    """The settings `build_detector` reads (`domain.config.Settings` has them)."""

    @property
    def sentiment_backend(self) -> str:
        """Return "embedding" or "transformers"."""

    @property
    def sentiment_model(self) -> str:
        """Return the hub id or local folder of the transformers model."""

    @property
    def sentiment_label_map(self) -> Mapping[str, str]:
        """Return model label -> our label overrides for the transformers backend."""

    @property
    def sentiment_train_file(self) -> Path:
        """Return the labelled messages the embedding backend trains on."""

    @property
    def sentiment_cache_dir(self) -> Path:
        """Return where the embedding backend caches its trained weights."""


def build_detector(settings: SentimentSettings) -> SentimentDetector:
    """Return the configured detector, not yet loaded (call `load()` in a worker thread)."""
    backend = settings.sentiment_backend
    if backend == "embedding":
        return EmbeddingDetector(
            train_file=settings.sentiment_train_file, cache_dir=settings.sentiment_cache_dir
        )
    if backend == "transformers":
        if not settings.sentiment_model:
            raise SentimentConfigError("the transformers backend needs QUITT_SENTIMENT_MODEL")
        return TransformersDetector(
            model=settings.sentiment_model, label_map=settings.sentiment_label_map
        )
    raise SentimentConfigError(
        f"unknown sentiment backend {backend!r} (expected 'embedding' or 'transformers')"
    )
