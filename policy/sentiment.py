"""Mood changes the tone, not who answers (issue 10).

A strong negative reading makes the bot acknowledge it (a short line in the debtor's
language before the next step): `SentimentDecision.acknowledge`. Mood alone brings a
person into the conversation only when it is sustained or explicit, and even then the
bot first *offers* a person and the debtor decides (`escalate`):

* sustained: the latest reading is strong, and an earlier one in the window was
  strong too, so the bot's acknowledgement (or the help it offered) did not help;
* explicit: one reading of anger so sure that it is abuse (`explicit_angry`).

Crisis cues and requests for a human never wait for mood: the NLU and
`policy.escalation` hand those off at once.

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
EXPLICIT_ANGER: Final = "sentiment_explicit_anger"
EXPLICIT_ABUSE: Final = "sentiment_explicit_abuse"
SENTIMENT_OK: Final = "sentiment_ok"
# What the acknowledgement answers: `acknowledge` holds one of these.
ANGRY: Final = "angry"
DISTRESSED: Final = "distressed"


@dataclass(frozen=True)
class SentimentThresholds:
    """When the bot acknowledges a mood, and when mood alone offers a person."""

    # A reading this sure is acknowledged. Raised from the escalation thresholds of
    # bench.sentiment --tune (0.55 / 0.40) so that an ordinary opening ("Hi, I got a
    # letter about an unpaid order": distressed 0.54) is not answered with sympathy.
    strong_angry: float = 0.60
    strong_distressed: float = 0.70
    trend_window: int = 3  # the last N readings make the trend
    trend_min_negative: int = 2  # this many strong readings in the window: sustained
    trend_min_score: float = 0.5  # (kept for configurations; the window counts strong readings)
    # One reading of anger this sure is abuse: a person is offered at once.
    explicit_angry: float = 0.95

    def __post_init__(self) -> None:
        """Refuse scores outside 0..1 and windows that cannot fire."""
        for name in ("strong_angry", "strong_distressed", "trend_min_score", "explicit_angry"):
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
    """What mood changes: an acknowledgement, and whether to offer a person.

    `escalate` means "offer a person"; `handoff_reason` is the CONTRACT §3 reason the
    handoff carries if the debtor accepts.
    """

    escalate: bool
    reason_codes: tuple[str, ...]
    handoff_reason: str | None = None
    acknowledge: str | None = None

    def to_audit(self) -> dict[str, object]:
        """Return a JSON-safe dict for the audit log."""
        return {
            "escalate": self.escalate,
            "acknowledge": self.acknowledge,
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


def _strong(label: str, score: float, limits: SentimentThresholds) -> str | None:
    if label == NEGATIVE_ANGRY and score >= limits.strong_angry:
        return ANGRY
    if label == NEGATIVE_DISTRESSED and score >= limits.strong_distressed:
        return DISTRESSED
    return None


def escalation_decision(
    *,
    readings: Sequence[tuple[str, float]],
    thresholds: SentimentThresholds | None = None,
    abusive: bool = False,
) -> SentimentDecision:
    """Decide how the debtor's mood (readings oldest first) shapes the bot's next answer.

    `abusive` says that the latest message insults or threatens in so many words
    (policy.abuse): explicit, whatever the reading.
    """
    limits = thresholds or SentimentThresholds()
    _check(readings)
    if abusive:
        return SentimentDecision(
            escalate=True,
            reason_codes=(r.NEGATIVE_SENTIMENT, EXPLICIT_ABUSE),
            handoff_reason=r.NEGATIVE_SENTIMENT,
            acknowledge=ANGRY,
        )
    if not readings:
        return SentimentDecision(escalate=False, reason_codes=(SENTIMENT_OK,))
    label, score = readings[-1]
    acknowledge = _strong(label, score, limits)
    if acknowledge is None:
        return SentimentDecision(escalate=False, reason_codes=(SENTIMENT_OK,))
    codes = [STRONG_ANGER if acknowledge == ANGRY else STRONG_DISTRESS]
    # Sustained: earlier readings in the window that were strong (and so acknowledged).
    window = readings[-limits.trend_window :]
    negatives = sum(1 for lb, sc in window if _strong(lb, sc, limits) is not None)
    if negatives >= limits.trend_min_negative:
        codes.append(NEGATIVE_TREND)
    if label == NEGATIVE_ANGRY and score >= limits.explicit_angry:
        codes.append(EXPLICIT_ANGER)
    if len(codes) == 1:
        return SentimentDecision(escalate=False, reason_codes=tuple(codes), acknowledge=acknowledge)
    return SentimentDecision(
        escalate=True,
        reason_codes=(r.NEGATIVE_SENTIMENT, *codes),
        handoff_reason=r.NEGATIVE_SENTIMENT,
        acknowledge=acknowledge,
    )
