"""build_detector picks the backend the settings name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from api.sentiment import (
    EmbeddingDetector,
    SentimentConfigError,
    TransformersDetector,
    build_detector,
)
from domain.config import ROOT


@dataclass(frozen=True)
class FakeSettings:
    """The sentiment part of the settings."""

    sentiment_backend: str = "embedding"
    sentiment_model: str = ""
    sentiment_label_map: Mapping[str, str] = field(default_factory=dict)
    sentiment_train_file: Path = ROOT / "data" / "sentiment" / "train.jsonl"
    sentiment_cache_dir: Path = Path("/nonexistent/cache")


def test_embedding_is_the_default() -> None:
    detector = build_detector(FakeSettings())
    assert isinstance(detector, EmbeddingDetector)
    assert detector.cache_dir == Path("/nonexistent/cache")  # nothing loaded, nothing written


def test_transformers_backend() -> None:
    detector = build_detector(
        FakeSettings(
            sentiment_backend="transformers",
            sentiment_model="some/model",
            sentiment_label_map={"LABEL_0": "neutral"},
        )
    )
    assert isinstance(detector, TransformersDetector)
    assert detector.model == "some/model"
    assert detector.label_map["label 0"] == "neutral"


def test_transformers_needs_a_model() -> None:
    with pytest.raises(SentimentConfigError, match="QUITT_SENTIMENT_MODEL"):
        build_detector(FakeSettings(sentiment_backend="transformers"))


def test_unknown_backend() -> None:
    with pytest.raises(SentimentConfigError, match="onnx"):
        build_detector(FakeSettings(sentiment_backend="onnx"))
