"""Tests for policy.claims."""

import pytest

from policy.claims import claim_status_decision
from policy.config import DEFAULT_POLICY as P
from policy.errors import PolicyError


@pytest.mark.parametrize(
    ("status", "dispute", "allowed", "reasons", "handoff"),
    [
        ("open", False, True, ("claim_open",), None),
        ("OPEN ", False, True, ("claim_open",), None),
        ("open", True, False, ("claim_disputed",), None),
        ("disputed", False, False, ("claim_disputed",), None),
        ("disputed", True, False, ("claim_disputed",), None),
        ("insolvency", False, False, ("claim_insolvency",), "insolvency"),
        ("insolvency", True, False, ("claim_insolvency",), "insolvency"),
        ("paid", False, False, ("claim_paid",), None),
        ("paid", True, False, ("claim_paid", "claim_disputed"), None),
    ],
)
def test_claim_status(
    status: str, dispute: bool, allowed: bool, reasons: tuple[str, ...], handoff: str | None
) -> None:
    decision = claim_status_decision(status=status, has_open_dispute=dispute, policy=P)
    assert (decision.allowed, decision.reasons, decision.handoff_reason) == (
        allowed,
        reasons,
        handoff,
    )
    assert decision.offer is None
    assert decision.policy_version == P.version


@pytest.mark.parametrize("status", ["", "closed", "settled", "unknown"])
def test_unknown_status_is_an_error(status: str) -> None:
    with pytest.raises(PolicyError, match="unknown claim status"):
        claim_status_decision(status=status, has_open_dispute=False, policy=P)
