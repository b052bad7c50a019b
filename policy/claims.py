"""What the claim's status allows (CONTRACT §4): collect, review, hand off, or nothing owed."""

from __future__ import annotations

from policy import reasons as r
from policy.config import CreditorPolicy
from policy.decisions import Decision
from policy.errors import InvalidRequest

CLAIM_STATUSES = frozenset({"open", "disputed", "insolvency", "paid"})


def claim_status_decision(
    *, status: str, has_open_dispute: bool, policy: CreditorPolicy
) -> Decision:
    """Decide whether the bot may ask for payment on a claim with this status."""
    normalised = status.strip().lower()
    if normalised not in CLAIM_STATUSES:
        raise InvalidRequest(f"unknown claim status {status!r}")
    if normalised == "insolvency":
        # No collection at all: insolvency law governs the claim now.
        return Decision(False, None, (r.CLAIM_INSOLVENCY,), policy.version, r.INSOLVENCY)
    reasons: list[str] = []
    if normalised == "paid":
        reasons.append(r.CLAIM_PAID)
    if normalised == "disputed" or has_open_dispute:
        # Under review: no payment request; the dialogue offers an agent.
        reasons.append(r.CLAIM_DISPUTED)
    if reasons:
        return Decision(False, None, tuple(reasons), policy.version)
    return Decision(True, None, (r.CLAIM_OPEN,), policy.version)
