"""Sentiment of debtor messages: a reading per message from a swappable backend.

`build_detector(settings)` returns the configured backend; it loads its model on the first
`load()` or `read()`, which the gateway runs in a worker thread.
"""

from api.sentiment.base import LABELS, Reading, SentimentDetector
from api.sentiment.embedding import EmbeddingDetector
from api.sentiment.errors import (
    InvalidTrainingData,
    SentimentConfigError,
    SentimentError,
    UnmappedLabels,
)
from api.sentiment.factory import SentimentSettings, build_detector
from api.sentiment.transformers_backend import TransformersDetector

__all__ = [
    "LABELS",
    "EmbeddingDetector",
    "InvalidTrainingData",
    "Reading",
    "SentimentConfigError",
    "SentimentDetector",
    "SentimentError",
    "SentimentSettings",
    "TransformersDetector",
    "UnmappedLabels",
    "build_detector",
]
