"""Sentiment escalation: one strong negative reading, or a negative trend, hands off.

Readings arrive as ``(label, score)`` pairs, oldest first, one per debtor message; the label
is one of the four sentiment labels and the score the detector's confidence in it. The rule
is pure: whoever calls it keeps the conversation's readings.

Default thresholds come from cross-validation on the training split of
``data/sentiment/train.jsonl`` (``python -m bench.sentiment --tune``), not from the held-out
messages the benchmark scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from policy import reasons as r
from policy.errors import InvalidRequest

NEGATIVE_ANGRY: Final = "negative_angry"
NEGATIVE_DISTRESSED: Final = "negative_distressed"
NEUTRAL: Final = "neutral"
POSITIVE: Final = "positive"
LABELS: Final = (NEGATIVE_ANGRY, NEGATIVE_DISTRESSED, NEUTRAL, POSITIVE)
NEGATIVE_LABELS: Final = frozenset({NEGATIVE_ANGRY, NEGATIVE_DISTRESSED})

# Detail codes next to the CONTRACT §3 reason: which rule fired.
STRONG_ANGER: Final = "sentiment_strong_anger"
STRONG_DISTRESS: Final = "sentiment_strong_distress"
NEGATIVE_TREND: Final = "sentiment_negative_trend"
SENTIMENT_OK: Final = "sentiment_ok"


@dataclass(frozen=True)
class SentimentThresholds:
    """When sentiment alone hands a conversation to a human."""

    # From cross-validation on the training split: one reading this sure escalates.
    strong_angry: float = 0.55
    strong_distressed: float = 0.40
    trend_window: int = 3  # the last N readings make the trend
    trend_min_negative: int = 2  # this many negative readings in the window escalate
    trend_min_score: float = 0.5  # a reading counts as negative from this score on

    def __post_init__(self) -> None:
        """Refuse scores outside 0..1 and windows that cannot fire."""
        for name in ("strong_angry", "strong_distressed", "trend_min_score"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidRequest(f"{name} must lie in 0..1, not {value!r}")
        if self.trend_window < 1:
            raise InvalidRequest(f"trend_window must be at least 1, not {self.trend_window!r}")
        if not 1 <= self.trend_min_negative <= self.trend_window:
            raise InvalidRequest(
                f"trend_min_negative must lie in 1..trend_window, not {self.trend_min_negative!r}"
            )


@dataclass(frozen=True)
class SentimentDecision:
    """Whether to escalate, the reason codes, and the CONTRACT §3 handoff reason if so."""

    escalate: bool
    reason_codes: tuple[str, ...]
    handoff_reason: str | None = None

    def to_audit(self) -> dict[str, object]:
        """Return a JSON-safe dict for the audit log."""
        return {
            "escalate": self.escalate,
            "reason_codes": list(self.reason_codes),
            "handoff_reason": self.handoff_reason,
        }


def _check(readings: Sequence[tuple[str, float]]) -> None:
    """Refuse unknown labels and scores outside 0..1."""
    for label, score in readings:
        if label not in LABELS:
            raise InvalidRequest(f"unknown sentiment label {label!r}")
        if not 0.0 <= score <= 1.0:
            raise InvalidRequest(f"sentiment score must lie in 0..1, not {score!r}")


def escalation_decision(
    *,
    readings: Sequence[tuple[str, float]],
    thresholds: SentimentThresholds | None = None,
) -> SentimentDecision:
    """Decide whether the conversation's sentiment readings (oldest first) call for a human."""
    limits = thresholds or SentimentThresholds()
    _check(readings)
    codes: list[str] = []
    if readings:
        label, score = readings[-1]
        if label == NEGATIVE_ANGRY and score >= limits.strong_angry:
            codes.append(STRONG_ANGER)
        elif label == NEGATIVE_DISTRESSED and score >= limits.strong_distressed:
            codes.append(STRONG_DISTRESS)
    window = readings[-limits.trend_window :]
    negatives = sum(
        1 for label, score in window if label in NEGATIVE_LABELS and score >= limits.trend_min_score
    )
    if negatives >= limits.trend_min_negative and readings[-1][0] in NEGATIVE_LABELS:
        codes.append(NEGATIVE_TREND)
    if not codes:
        return SentimentDecision(escalate=False, reason_codes=(SENTIMENT_OK,))
    return SentimentDecision(
        escalate=True,
        reason_codes=(r.NEGATIVE_SENTIMENT, *codes),
        handoff_reason=r.NEGATIVE_SENTIMENT,
    )
