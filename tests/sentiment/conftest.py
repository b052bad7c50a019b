"""Shared fixtures: the default detector on the real training data, a small training file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.sentiment import EmbeddingDetector
from api.sentiment.dataset import load_examples
from domain.config import ROOT

TRAIN = ROOT / "data" / "sentiment" / "train.jsonl"


@pytest.fixture(scope="session")
def detector() -> EmbeddingDetector:
    """Return the default detector, loaded once per test session.

    It shares the app's cache folder: the weights are keyed by the training file's hash,
    so the first run trains (about 20 s on 2 cores) and later runs load them.
    """
    found = EmbeddingDetector(train_file=TRAIN, cache_dir=ROOT / "var" / "cache" / "sentiment")
    found.load()
    return found


@pytest.fixture
def small_train_file(tmp_path: Path) -> Path:
    """Write 5 training messages per label (German and English) and return the file."""
    picked: dict[str, int] = {}
    lines = []
    for example in load_examples(TRAIN)[::3]:
        if picked.get(example.label, 0) < 5:
            picked[example.label] = picked.get(example.label, 0) + 1
            lines.append(json.dumps(example.__dict__, ensure_ascii=False))
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
