"""Pure parts of the NLU benchmark (bench.nlu), without running Rasa."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import nlu

# Shaped like Rasa 3.6's intent_report.json (sklearn report + accuracy + confused_with).
REPORT: dict[str, Any] = {
    "greet": {
        "precision": 1.0,
        "recall": 0.5,
        "f1-score": 0.6667,
        "support": 4,
        "confused_with": {"goodbye": 2},
    },
    "goodbye": {"precision": 0.6667, "recall": 1.0, "f1-score": 0.8, "support": 4},
    "affirm": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2},
    "deny": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2},
    # A label only ever predicted (support 0) is not a held-out intent.
    "nlu_fallback": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0},
    "accuracy": 0.8333,
    "macro avg": {"precision": 0.9167, "recall": 0.875, "f1-score": 0.8667, "support": 12},
    "weighted avg": {"precision": 0.8889, "recall": 0.8333, "f1-score": 0.8222, "support": 12},
    "micro avg": {"precision": 0.8333, "recall": 0.8333, "f1-score": 0.8333, "support": 12},
}


def _metrics(**overrides: Any) -> dict[str, Any]:
    return {**nlu.intent_metrics(REPORT), **overrides}


def test_intent_metrics_reads_the_summary_rows() -> None:
    m = nlu.intent_metrics(REPORT)
    assert m["accuracy"] == pytest.approx(0.8333)
    assert m["weighted_f1"] == pytest.approx(0.8222)
    assert m["macro_f1"] == pytest.approx(0.8667)
    assert m["examples"] == 12
    assert m["intents"] == 4


def test_worst_intents_are_sorted_by_f1_then_name_and_skip_summaries() -> None:
    worst = nlu.intent_metrics(REPORT, worst_n=3)["worst"]
    assert [w["intent"] for w in worst] == ["greet", "goodbye", "affirm"]
    assert worst[0] == {
        "intent": "greet",
        "f1": 0.6667,
        "precision": 1.0,
        "recall": 0.5,
        "support": 4,
        "confused_with": {"goodbye": 2},
    }
    assert worst[1]["confused_with"] == {}


def test_worst_defaults_to_five_or_fewer() -> None:
    assert len(nlu.intent_metrics(REPORT)["worst"]) == 4  # only 4 intents with support


def test_intent_metrics_reads_a_report_file(tmp_path: Path) -> None:
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    assert nlu.intent_metrics(json.loads(path.read_text(encoding="utf-8")))["examples"] == 12


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([5.0], 95, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([float(v) for v in range(1, 101)], 95, 95.05),
        ([1.0, 2.0, 3.0], 100, 3.0),
        ([1.0, 2.0, 3.0], 0, 1.0),
    ],
)
def test_percentile(values: list[float], pct: float, expected: float) -> None:
    assert nlu.percentile(values, pct) == pytest.approx(expected)


def test_percentile_of_nothing_fails() -> None:
    with pytest.raises(ValueError):
        nlu.percentile([], 50)


def test_heldout_texts_strip_annotations_and_skip_non_intents(tmp_path: Path) -> None:
    path = tmp_path / "nlu_xx.yml"
    path.write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: greet\n"
        "  examples: |\n"
        "    - hallo\n"
        "    -  hi du \n"
        "- synonym: euro\n"
        "  examples: |\n"
        "    - eur\n"
        "- intent: inform\n"
        "  examples: |\n"
        "    - ich zahle [80 €](amount) am [Ersten]{\"entity\": \"date\"}\n",
        encoding="utf-8",
    )
    assert nlu.heldout_texts(path) == ["hallo", "hi du", "ich zahle 80 € am Ersten"]


def test_heldout_files_are_read() -> None:
    for lang in nlu.LANGUAGES:
        texts = nlu.heldout_texts(nlu.HELDOUT_DIR / f"nlu_{lang}.yml")
        assert texts
        assert all(t and not t.startswith("- ") for t in texts)


ENTITIES = {
    "entity_cases": 3,
    "entity_accuracy": 2 / 3,
    "amount_accuracy": 1.0,
    "date_accuracy": 0.5,
    "failures": [{"text": "am Ersten", "expected": [("date", "x")], "found": []}],
}
LATENCY = {"n": 12, "p50": 21.123456, "p95": 46.98765, "max": 60.0,
           "fallback_rate": {"de": 0.05, "en": 0.0}}  # fmt: skip


def test_final_line_has_the_exact_keys_in_order_and_rounds() -> None:
    per_language = {"de": _metrics(weighted_f1=0.912345678), "en": _metrics(examples=7)}
    line = nlu.final_line(per_language, ENTITIES, LATENCY)
    assert "\n" not in line
    data = json.loads(line)
    assert list(data) == [
        "bench",
        "intent_f1_de",
        "intent_f1_en",
        "intent_macro_f1_de",
        "intent_macro_f1_en",
        "intent_accuracy_de",
        "intent_accuracy_en",
        "entity_accuracy",
        "amount_accuracy",
        "date_accuracy",
        "parse_ms_p50",
        "parse_ms_p95",
        "heldout_examples_de",
        "heldout_examples_en",
    ]
    assert data["bench"] == "nlu"
    assert data["intent_f1_de"] == 0.9123
    assert data["intent_f1_en"] == 0.8222
    assert data["intent_macro_f1_en"] == 0.8667
    assert data["intent_accuracy_de"] == 0.8333
    assert data["entity_accuracy"] == 0.6667
    assert data["date_accuracy"] == 0.5
    assert data["parse_ms_p50"] == 21.1235
    assert data["parse_ms_p95"] == 46.9877
    assert data["heldout_examples_de"] == 12
    assert data["heldout_examples_en"] == 7
    assert isinstance(data["heldout_examples_en"], int)


def test_render_table_mentions_every_section() -> None:
    table = nlu.render_table({"de": _metrics(), "en": _metrics()}, ENTITIES, LATENCY)
    for needle in ("de ", "en ", "greet", "goodbye×2", "date_accuracy", "FAIL 'am Ersten'",
                   "p50 21.12 ms", "p95 46.99 ms", "de 5.0%"):  # fmt: skip
        assert needle in table
    assert "{" not in table.splitlines()[-1]  # the JSON line is printed separately


def test_missing_model_exits_non_zero_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nlu, "MODEL", nlu.ROOT / "models" / "does-not-exist.tar.gz")

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("Rasa must not run without a model")

    monkeypatch.setattr(nlu, "run_rasa_tests", fail)
    assert nlu.main() == 2
    captured = capsys.readouterr()
    assert "model not found: models/does-not-exist.tar.gz" in captured.err
    assert "make train" in captured.err
    assert captured.out == ""
