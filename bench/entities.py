"""Score the amount/date extractor on held-out phrases (bench/entity_cases.yml).

Run in the app runtime: ``python -m bench.entities [cases.yml]``.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from nlu.entities import extract_entities

CASES_PATH = Path(__file__).with_name("entity_cases.yml")

Pairs = set[tuple[str, str]]


def _of(pairs: Pairs, entity: str) -> Pairs:
    """Keep the pairs of one entity type."""
    return {p for p in pairs if p[0] == entity}


def _ratio(hits: int, total: int) -> float:
    """Return hits/total, 1.0 when there is nothing to count."""
    return round(hits / total, 4) if total else 1.0


def score(cases_path: Path) -> dict[str, Any]:
    """Extract entities for every case and report exact-set accuracies and failures."""
    data = yaml.safe_load(cases_path.read_text(encoding="utf-8"))
    today = data["today"]
    if not isinstance(today, date):
        today = date.fromisoformat(str(today))
    correct = 0
    typed = {"amount": [0, 0], "date": [0, 0]}  # [hits, cases where it is expected or found]
    failures: list[dict[str, Any]] = []
    for case in data["cases"]:
        expected: Pairs = {(e["entity"], str(e["value"])) for e in case.get("expect") or []}
        found: Pairs = {
            (e.entity, e.value)
            for e in extract_entities(case["text"], today=today, language=case.get("language"))
        }
        if found == expected:
            correct += 1
        else:
            failures.append(
                {"text": case["text"], "expected": sorted(expected), "found": sorted(found)}
            )
        for entity, counts in typed.items():
            # Per-type accuracy counts only the cases where that type is at stake.
            if _of(expected, entity) or _of(found, entity):
                counts[1] += 1
                counts[0] += _of(expected, entity) == _of(found, entity)
    n = len(data["cases"])
    return {
        "entity_cases": n,
        "entity_accuracy": _ratio(correct, n),
        "amount_accuracy": _ratio(*typed["amount"]),
        "date_accuracy": _ratio(*typed["date"]),
        "failures": failures,
    }


def main(argv: list[str]) -> None:
    """Print a small table of the scores, the failures, and the result dict."""
    result = score(Path(argv[0]) if argv else CASES_PATH)
    print(f"{'metric':<18}{'value':>8}")
    for key in ("entity_cases", "entity_accuracy", "amount_accuracy", "date_accuracy"):
        print(f"{key:<18}{result[key]:>8}")
    for failure in result["failures"]:
        print(f"FAIL {failure['text']!r}: expected {failure['expected']}, got {failure['found']}")
    print(result)


if __name__ == "__main__":
    main(sys.argv[1:])
