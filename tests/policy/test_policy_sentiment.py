"""Tests for policy.sentiment: mood is acknowledged; sustained or explicit mood offers a person."""

import pytest

from policy.errors import InvalidRequest
from policy.reasons import HANDOFF_REASONS, NEGATIVE_SENTIMENT
from policy.sentiment import (
    ANGRY,
    DISTRESSED,
    EXPLICIT_ANGER,
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
    explicit_angry=0.97,
)
A, D, N, P = "negative_angry", "negative_distressed", "neutral", "positive"

CASES = [
    # (readings oldest first, offer a person, acknowledge, detail codes)
    ([], False, None, (SENTIMENT_OK,)),
    ([(N, 0.99)], False, None, (SENTIMENT_OK,)),
    ([(P, 0.95)], False, None, (SENTIMENT_OK,)),
    # One strong reading, even the very first message: acknowledged, nobody offered.
    ([(A, 0.80)], False, ANGRY, (STRONG_ANGER,)),
    ([(A, 0.79)], False, None, (SENTIMENT_OK,)),
    ([(D, 0.75)], False, DISTRESSED, (STRONG_DISTRESS,)),
    ([(D, 0.99)], False, DISTRESSED, (STRONG_DISTRESS,)),
    ([(D, 0.74)], False, None, (SENTIMENT_OK,)),
    # Abuse so plain that a person is offered at once.
    ([(A, 0.97)], True, ANGRY, (STRONG_ANGER, EXPLICIT_ANGER)),
    # An old outburst has been handled: a calm latest message changes nothing.
    ([(A, 0.95), (N, 0.9)], False, None, (SENTIMENT_OK,)),
    # Sustained: still strongly negative after the acknowledgement.
    ([(A, 0.85), (A, 0.90)], True, ANGRY, (STRONG_ANGER, NEGATIVE_TREND)),
    ([(D, 0.80), (N, 0.9), (D, 0.76)], True, DISTRESSED, (STRONG_DISTRESS, NEGATIVE_TREND)),
    ([(D, 0.80), (A, 0.90)], True, ANGRY, (STRONG_ANGER, NEGATIVE_TREND)),
    # An earlier reading that was not strong was not acknowledged: not sustained yet.
    ([(D, 0.70), (A, 0.90)], False, ANGRY, (STRONG_ANGER,)),
    # A weak latest reading is neither acknowledged nor sustained.
    ([(A, 0.65), (N, 0.9), (D, 0.62)], False, None, (SENTIMENT_OK,)),
    # An earlier negative below the strong score does not make it sustained.
    ([(A, 0.79), (N, 0.9), (D, 0.80)], False, DISTRESSED, (STRONG_DISTRESS,)),
    # Outside the window.
    ([(A, 0.9), (N, 0.9), (N, 0.9), (A, 0.85)], False, ANGRY, (STRONG_ANGER,)),
    # The debtor calmed down.
    ([(A, 0.9), (D, 0.9), (N, 0.9)], False, None, (SENTIMENT_OK,)),
    ([(A, 0.9), (D, 0.9), (P, 0.9)], False, None, (SENTIMENT_OK,)),
]


@pytest.mark.parametrize(("readings", "offer", "acknowledge", "details"), CASES)
def test_escalation_decision(
    readings: list[tuple[str, float]],
    offer: bool,
    acknowledge: str | None,
    details: tuple[str, ...],
) -> None:
    decision = escalation_decision(readings=readings, thresholds=T)
    assert decision.escalate is offer
    assert decision.acknowledge == acknowledge
    if offer:
        assert decision.reason_codes == (NEGATIVE_SENTIMENT, *details)
        assert decision.handoff_reason == NEGATIVE_SENTIMENT
        assert decision.handoff_reason in HANDOFF_REASONS
    else:
        assert decision.reason_codes == details
        assert decision.handoff_reason is None


def test_default_thresholds_and_audit() -> None:
    single = escalation_decision(readings=[("negative_distressed", 0.99)])
    assert not single.escalate and single.acknowledge == DISTRESSED
    decision = escalation_decision(readings=[("negative_angry", 0.9), ("negative_angry", 0.9)])
    assert decision.escalate
    assert decision.to_audit() == {
        "escalate": True,
        "acknowledge": ANGRY,
        "reason_codes": [NEGATIVE_SENTIMENT, STRONG_ANGER, NEGATIVE_TREND],
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


def test_explicit_abuse_offers_a_person_whatever_the_reading() -> None:
    for readings in ([], [("neutral", 0.9)], [("positive", 0.8)]):
        decision = escalation_decision(readings=readings, abusive=True)
        assert decision.escalate and decision.acknowledge == ANGRY
        assert decision.handoff_reason == NEGATIVE_SENTIMENT
        assert decision.reason_codes == (NEGATIVE_SENTIMENT, "sentiment_explicit_abuse")
