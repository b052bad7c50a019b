"""What the policy answers: offers, their instalments, and decisions with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

OfferKind = Literal["full", "settlement", "deferral", "instalment_plan"]


@dataclass(frozen=True)
class Instalment:
    """One payment of an instalment plan."""

    number: int
    amount: Decimal
    due_date: date

    def to_audit(self) -> dict[str, object]:
        """Return a JSON-safe dict."""
        return {
            "number": self.number,
            "amount": str(self.amount),
            "due_date": self.due_date.isoformat(),
        }


@dataclass(frozen=True)
class Offer:
    """A payment arrangement: what is owed, what is promised, and when."""

    kind: OfferKind
    total: Decimal  # what is owed
    amount: Decimal  # total promised
    discount: Decimal  # total - amount (0 except for a settlement)
    due_date: date  # first or only payment
    instalments: tuple[Instalment, ...] = ()  # plan only

    @property
    def months(self) -> int:
        """Return the number of payments (1 unless a plan)."""
        return len(self.instalments) or 1

    @property
    def monthly(self) -> Decimal:
        """Return the regular payment (the first instalment, or the whole amount)."""
        return self.instalments[0].amount if self.instalments else self.amount

    def to_audit(self) -> dict[str, object]:
        """Return a JSON-safe dict (decimals as strings, dates ISO)."""
        return {
            "kind": self.kind,
            "total": str(self.total),
            "amount": str(self.amount),
            "discount": str(self.discount),
            "due_date": self.due_date.isoformat(),
            "instalments": [instalment.to_audit() for instalment in self.instalments],
        }


@dataclass(frozen=True)
class Decision:
    """The policy's answer: allowed or not, the offer (or nearest compliant one), and why."""

    allowed: bool
    offer: Offer | None  # allowed: the offer as asked; not allowed: nearest compliant, if any
    reasons: tuple[str, ...]
    policy_version: str
    handoff_reason: str | None = None  # a CONTRACT §3 code when the policy says hand off

    def to_audit(self) -> dict[str, object]:
        """Return a JSON-safe dict for the audit log."""
        return {
            "allowed": self.allowed,
            "offer": None if self.offer is None else self.offer.to_audit(),
            "reasons": list(self.reasons),
            "policy_version": self.policy_version,
            "handoff_reason": self.handoff_reason,
        }
