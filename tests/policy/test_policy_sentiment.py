"""Tests for policy.sentiment: one strong reading or a negative trend escalates."""

import pytest

from policy.errors import InvalidRequest
from policy.reasons import HANDOFF_REASONS, NEGATIVE_SENTIMENT
from policy.sentiment import (
    NEGATIVE_TREND,
    SENTIMENT_OK,
    STRONG_ANGER,
    STRONG_DISTRESS,
    SentimentThresholds,
    escalation_decision,
)

T = SentimentThresholds(
    strong_angry=0.80,
    strong_distressed=0.75,
    trend_window=3,
    trend_min_negative=2,
    trend_min_score=0.6,
)
A, D, N, P = "negative_angry", "negative_distressed", "neutral", "positive"

CASES = [
    # (readings oldest first, escalate, detail codes)
    ([], False, (SENTIMENT_OK,)),
    ([(N, 0.99)], False, (SENTIMENT_OK,)),
    ([(P, 0.95)], False, (SENTIMENT_OK,)),
    ([(A, 0.80)], True, (STRONG_ANGER,)),
    ([(A, 0.79)], False, (SENTIMENT_OK,)),
    ([(D, 0.75)], True, (STRONG_DISTRESS,)),
    ([(D, 0.74)], False, (SENTIMENT_OK,)),
    # Only the latest message counts as a strong reading: an old outburst has been handled.
    ([(A, 0.95), (N, 0.9)], False, (SENTIMENT_OK,)),
    # A trend: two negatives in the last three, the latest negative.
    ([(A, 0.65), (N, 0.9), (D, 0.62)], True, (NEGATIVE_TREND,)),
    ([(A, 0.65), (A, 0.70)], True, (NEGATIVE_TREND,)),
    # Both rules at once.
    ([(D, 0.70), (A, 0.90)], True, (STRONG_ANGER, NEGATIVE_TREND)),
    # Negatives below the trend score do not count.
    ([(A, 0.55), (N, 0.9), (D, 0.59)], False, (SENTIMENT_OK,)),
    # Outside the window.
    ([(A, 0.7), (N, 0.9), (N, 0.9), (D, 0.7)], False, (SENTIMENT_OK,)),
    # The debtor calmed down: no trend escalation on a neutral latest message.
    ([(A, 0.7), (D, 0.7), (N, 0.9)], False, (SENTIMENT_OK,)),
    ([(A, 0.7), (D, 0.7), (P, 0.9)], False, (SENTIMENT_OK,)),
]


@pytest.mark.parametrize(("readings", "escalate", "details"), CASES)
def test_escalation_decision(
    readings: list[tuple[str, float]], escalate: bool, details: tuple[str, ...]
) -> None:
    decision = escalation_decision(readings=readings, thresholds=T)
    assert decision.escalate is escalate
    if escalate:
        assert decision.reason_codes == (NEGATIVE_SENTIMENT, *details)
        assert decision.handoff_reason == NEGATIVE_SENTIMENT
        assert decision.handoff_reason in HANDOFF_REASONS
    else:
        assert decision.reason_codes == details
        assert decision.handoff_reason is None


def test_default_thresholds_and_audit() -> None:
    decision = escalation_decision(readings=[("negative_angry", 0.99)])
    assert decision.escalate
    assert decision.to_audit() == {
        "escalate": True,
        "reason_codes": [NEGATIVE_SENTIMENT, STRONG_ANGER],
        "handoff_reason": NEGATIVE_SENTIMENT,
    }


@pytest.mark.parametrize(
    "readings", [[("furious", 0.9)], [("negative_angry", 1.2)], [("neutral", -0.1)]]
)
def test_bad_readings_are_refused(readings: list[tuple[str, float]]) -> None:
    with pytest.raises(InvalidRequest):
        escalation_decision(readings=readings, thresholds=T)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strong_angry": 1.5},
        {"strong_distressed": -0.1},
        {"trend_min_score": 2.0},
        {"trend_window": 0},
        {"trend_window": 2, "trend_min_negative": 3},
        {"trend_min_negative": 0},
    ],
)
def test_bad_thresholds_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidRequest):
        SentimentThresholds(**kwargs)  # type: ignore[arg-type]
