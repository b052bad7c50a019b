"""Plumbing of the transformers backend with a tiny BERT built here (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.sentiment import LABELS, SentimentConfigError, TransformersDetector, UnmappedLabels
from api.sentiment.transformers_backend import DEFAULT_LABEL_MAP, normalise_label

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = "ich kann nicht zahlen danke super ihr seid betrüger i can not pay thanks great you crooks"
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS.split()]


def tiny_model(folder: Path, id2label: dict[int, str]) -> Path:
    """Save a randomly initialised two-layer BERT classifier and its tokenizer to `folder`."""
    folder.mkdir()
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(vocab_file=str(vocab))
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={label: i for i, label in id2label.items()},
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def three_class_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a tiny model with the labels negative / neutral / positive."""
    folder = tmp_path_factory.mktemp("tiny") / "bert-3"
    return tiny_model(folder, {0: "negative", 1: "neutral", 2: "positive"})


def test_reads_through_the_pipeline(three_class_model: Path) -> None:
    detector = TransformersDetector(model=str(three_class_model))
    readings = detector.read_many(["ihr seid betrüger", "thanks great", " "], "de")
    assert len(readings) == 3
    for reading in readings[:2]:
        assert reading.backend == "transformers"
        assert set(reading.scores) == set(LABELS)
        assert reading.scores["negative_distressed"] == 0.0  # no model label maps there
        assert sum(reading.scores.values()) == pytest.approx(1.0, abs=1e-5)
        assert reading.score == max(reading.scores.values())
    assert readings[2].label == "neutral" and readings[2].score == 1.0
    assert detector.read("i can not pay").label in LABELS


def test_label_mapping_follows_the_model_scores(three_class_model: Path) -> None:
    raw = transformers.pipeline("text-classification", model=str(three_class_model), top_k=None)
    expected = {item["label"]: item["score"] for item in raw(["danke super"])[0]}
    reading = TransformersDetector(model=str(three_class_model)).read("danke super")
    assert reading.scores["negative_angry"] == pytest.approx(expected["negative"], abs=1e-5)
    assert reading.scores["neutral"] == pytest.approx(expected["neutral"], abs=1e-5)
    assert reading.scores["positive"] == pytest.approx(expected["positive"], abs=1e-5)

    # An override sends "negative" to distressed instead.
    overridden = TransformersDetector(
        model=str(three_class_model), label_map={"NEGATIVE": "negative_distressed"}
    ).read("danke super")
    assert overridden.scores["negative_distressed"] == pytest.approx(expected["negative"], abs=1e-5)
    assert overridden.scores["negative_angry"] == 0.0


def test_emotion_labels_add_up(tmp_path: Path) -> None:
    folder = tiny_model(
        tmp_path / "emotions", {0: "anger", 1: "sadness", 2: "fear", 3: "joy", 4: "surprise"}
    )
    raw = transformers.pipeline("text-classification", model=str(folder), top_k=None)
    expected = {item["label"]: item["score"] for item in raw(["ich kann nicht zahlen"])[0]}
    reading = TransformersDetector(model=str(folder)).read("ich kann nicht zahlen")
    assert reading.scores["negative_distressed"] == pytest.approx(
        expected["sadness"] + expected["fear"], abs=1e-5
    )
    assert reading.scores["positive"] == pytest.approx(expected["joy"], abs=1e-5)


def test_unmapped_model_labels_are_refused(tmp_path: Path) -> None:
    folder = tiny_model(tmp_path / "generic", {0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(UnmappedLabels, match="LABEL_0, LABEL_1"):
        TransformersDetector(model=str(folder)).load()
    mapped = TransformersDetector(
        model=str(folder), label_map={"LABEL_0": "negative_angry", "LABEL_1": "positive"}
    )
    assert mapped.read("danke").label in {"negative_angry", "positive"}


def test_bad_label_map_target() -> None:
    with pytest.raises(SentimentConfigError, match="furious"):
        TransformersDetector(model="whatever", label_map={"anger": "furious"})


@pytest.mark.parametrize(
    ("model_label", "ours"),
    [
        ("NEGATIVE", "negative_angry"),
        ("Neutral", "neutral"),
        ("positive", "positive"),
        ("1 star", "negative_angry"),
        ("3 stars", "neutral"),
        ("5 stars", "positive"),
        ("anger", "negative_angry"),
        ("sadness", "negative_distressed"),
        ("fear", "negative_distressed"),
        ("joy", "positive"),
        ("negative_distressed", "negative_distressed"),
    ],
)
def test_default_label_map(model_label: str, ours: str) -> None:
    assert DEFAULT_LABEL_MAP[normalise_label(model_label)] == ours
