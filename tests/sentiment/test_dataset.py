"""Checks on the labelled dataset itself: shape, balance, no leaks into the held-out split."""

from __future__ import annotations

from collections import Counter

from api.sentiment import LABELS
from api.sentiment.dataset import STYLES, load_examples
from domain.config import ROOT

DATA = ROOT / "data" / "sentiment"


def test_sizes_languages_and_labels() -> None:
    train = load_examples(DATA / "train.jsonl")
    heldout = load_examples(DATA / "heldout.jsonl")
    assert len(train) >= 400 and len(heldout) >= 140
    for split in (train, heldout):
        languages = Counter(e.language for e in split)
        assert set(languages) == {"de", "en"}
        assert languages["de"] == languages["en"]
        assert {e.label for e in split} == set(LABELS)
        assert {e.style for e in split} == set(STYLES)


def test_heldout_is_not_in_training() -> None:
    seen = {e.text.casefold() for e in load_examples(DATA / "train.jsonl")}
    assert not [e.text for e in load_examples(DATA / "heldout.jsonl") if e.text.casefold() in seen]


def test_escalation_marks_follow_the_guide() -> None:
    for example in load_examples(DATA / "train.jsonl") + load_examples(DATA / "heldout.jsonl"):
        if example.style in {"abusive", "desperate"}:
            assert example.must_escalate, example
        if example.style in {"neutral", "cooperative"}:
            assert not example.must_escalate, example
        if example.style == "sarcastic":
            assert example.label == "negative_angry", example
