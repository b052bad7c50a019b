"""The labelled debtor messages in `data/sentiment/*.jsonl`, one JSON object a line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from api.sentiment.base import LABELS
from api.sentiment.errors import InvalidTrainingData

STYLES: Final = (
    "angry",
    "abusive",
    "desperate",
    "ashamed",
    "neutral",
    "cooperative",
    "sarcastic",
)


@dataclass(frozen=True)
class Example:
    """One labelled message: text, language, label, writing style, must it reach a human."""

    text: str
    language: str
    label: str
    style: str
    must_escalate: bool


def _parse(line: str, *, path: Path, number: int) -> Example:
    """Parse and check one line of a dataset file."""
    try:
        raw = json.loads(line)
        example = Example(
            text=str(raw["text"]),
            language=str(raw["language"]),
            label=str(raw["label"]),
            style=str(raw["style"]),
            must_escalate=bool(raw["must_escalate"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidTrainingData(path, f"line {number}: {exc}") from exc
    if example.label not in LABELS:
        raise InvalidTrainingData(path, f"line {number}: unknown label {example.label!r}")
    if example.style not in STYLES:
        raise InvalidTrainingData(path, f"line {number}: unknown style {example.style!r}")
    if not example.text.strip():
        raise InvalidTrainingData(path, f"line {number}: empty text")
    return example


def load_examples(path: Path) -> list[Example]:
    """Read every example of a dataset file, refusing malformed lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidTrainingData(path, f"cannot read: {exc.strerror}") from exc
    examples = [
        _parse(line, path=path, number=number)
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not examples:
        raise InvalidTrainingData(path, "no examples")
    return examples
