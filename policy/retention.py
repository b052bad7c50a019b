"""How long a transcript is kept (GDPR Art. 5(1)(e), storage limitation).

A conversation's transcript is anonymised once every claim it concerns is paid and
the longest `transcript_retention_days` of their creditors' policies has passed
since the later of its last message and the claims' settlement. A conversation that
never reached a claim (no identity check, no record) has no purpose after the default
policy's period of silence. A transcript an agent is working on, or that a pending
request for access concerns, is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from policy.config import CreditorPolicy
from policy.errors import InvalidRequest

SETTLED_STATUS: Final = "paid"

# Reason codes.
RETENTION_ELAPSED: Final = "retention_elapsed"
RETENTION_RUNNING: Final = "retention_running"
CLAIMS_SETTLED: Final = "claims_settled"
NO_CLAIM: Final = "no_claim"
CLAIM_NOT_SETTLED: Final = "claim_not_settled"
HELD_BY_AGENT: Final = "held_by_agent"
REQUEST_PENDING: Final = "privacy_request_pending"


@dataclass(frozen=True)
class RetentionDecision:
    """Whether a transcript is due for anonymisation now, and why."""

    due: bool
    reasons: tuple[str, ...]
    policy_version: str
    retention_days: int
    keep_until: datetime | None  # None while the claims are not settled


def transcript_retention(
    *,
    claim_statuses: Sequence[str],
    policies: Sequence[CreditorPolicy],
    default: CreditorPolicy,
    last_activity: datetime,
    settled_at: datetime | None,
    now: datetime,
    held_by_agent: bool = False,
    request_pending: bool = False,
) -> RetentionDecision:
    """Decide whether a conversation's transcript is due for anonymisation.

    `policies` are the creditor policies of the claims (`claim_statuses`) the
    conversation concerns; `settled_at` is when the last of them was settled.
    """
    for name, value in (("last_activity", last_activity), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRequest(f"{name} must be timezone-aware")
    governing = max(policies, key=lambda p: p.transcript_retention_days, default=default)
    if not claim_statuses:
        governing = default
    days = governing.transcript_retention_days

    def keep(*reasons: str, until: datetime | None = None) -> RetentionDecision:
        return RetentionDecision(False, reasons, governing.version, days, until)

    if held_by_agent:
        return keep(HELD_BY_AGENT)
    if request_pending:
        return keep(REQUEST_PENDING)
    if any(status != SETTLED_STATUS for status in claim_statuses):
        return keep(CLAIM_NOT_SETTLED)
    basis = CLAIMS_SETTLED if claim_statuses else NO_CLAIM
    since = max(last_activity, settled_at) if settled_at is not None else last_activity
    until = since + timedelta(days=days)
    if now < until:
        return keep(RETENTION_RUNNING, basis, until=until)
    return RetentionDecision(True, (RETENTION_ELAPSED, basis), governing.version, days, until)
