"""bench/nlu_paraphrases.yml (the NOT blind robustness check of bench.nlu) stays usable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench import nlu

REPO_ROOT = Path(__file__).resolve().parents[2]
PER_LANGUAGE = 40


def _training_examples() -> dict[str, str]:
    """Return {normalised text: intent} of every example in bot/data/nlu."""
    examples: dict[str, str] = {}
    for path in sorted((REPO_ROOT / "bot" / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples[_norm(line[2:])] = block["intent"]
    return examples


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def test_forty_paraphrases_per_language_with_known_intents() -> None:
    cases = nlu.paraphrase_cases(nlu.PARAPHRASES)
    training = _training_examples()
    intents = set(training.values())
    for lang in nlu.LANGUAGES:
        assert len(cases[lang]) == PER_LANGUAGE
        assert len({text for text, _ in cases[lang]}) == PER_LANGUAGE  # no duplicates
        unknown = {intent for _, intent in cases[lang]} - intents
        assert not unknown, f"intents not in bot/data: {unknown}"


def test_paraphrases_are_not_training_data() -> None:
    """A paraphrase copied into bot/data no longer tests anything: write a new one."""
    training = _training_examples()
    cases = nlu.paraphrase_cases(nlu.PARAPHRASES)
    copied = [text for lang in nlu.LANGUAGES for text, _ in cases[lang] if _norm(text) in training]
    assert not copied, f"in bot/data as well, replace them in {nlu.PARAPHRASES.name}: {copied}"


def test_paraphrase_scores_count_fallbacks_as_wrong_live_only() -> None:
    cases = {
        "de": [("ja", "affirm"), ("nee", "deny")],
        "en": [("yes", "affirm"), ("bye", "goodbye"), ("hi", "greet")],
    }
    predicted: list[list[str | None]] = [
        ["affirm", "affirm"],
        ["nlu_fallback", "deny"],
        ["affirm", "affirm"],
        ["greet", "greet"],
        ["greet", "greet"],
    ]
    scores = nlu.paraphrase_scores(cases, predicted)
    assert scores["de"]["n"] == 2
    assert scores["de"]["live_accuracy"] == pytest.approx(0.5)
    assert scores["de"]["classifier_accuracy"] == pytest.approx(1.0)
    assert scores["de"]["misses"] == [
        {"text": "nee", "expected": "deny", "live": "nlu_fallback", "classifier": "deny"}
    ]
    assert scores["en"]["live_accuracy"] == pytest.approx(2 / 3)
    assert scores["en"]["classifier_accuracy"] == pytest.approx(2 / 3)
    table = nlu.render_table(
        {"de": nlu.intent_metrics(REPORT), "en": nlu.intent_metrics(REPORT)},
        ENTITIES,
        LATENCY,
        scores,
    )
    assert "NOT blind" in table
    assert "MISS (de) 'nee': expected deny, live nlu_fallback, classifier deny" in table


REPORT = {
    "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2},
    "accuracy": 1.0,
    "macro avg": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2},
    "weighted avg": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2},
}
ENTITIES = {
    "entity_cases": 1,
    "entity_accuracy": 1.0,
    "amount_accuracy": 1.0,
    "date_accuracy": 1.0,
    "failures": [],
}
LATENCY = {"n": 2, "p50": 10.0, "p95": 20.0, "max": 30.0, "fallback_rate": {"de": 0.0, "en": 0.0}}
