"""Payment (a booked credit from a bank statement) and its allocations to claims."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import CheckConstraint, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base
from domain.db.columns import Money, UTCDateTime, check_in, utcnow

# matched: by the import; assigned: by an agent; unmatched: waiting for an agent;
# reversed: the bank took it back (a return or reversal, PaymentReversal).
PAYMENT_STATES: Final = ("matched", "unmatched", "assigned", "reversed")


class Payment(Base):
    """A credit into the account, imported once per bank transaction id.

    `payer` and `remittance` are the statement's own words: personal data, shown
    to agents, never logged.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(check_in("state", PAYMENT_STATES), name="state"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(140), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    booked_on: Mapped[date] = mapped_column(Date, index=True)
    remittance: Mapped[str] = mapped_column(String(500), default="", server_default="")
    payer: Mapped[str | None] = mapped_column(String(140))
    claim_reference: Mapped[str | None] = mapped_column(ForeignKey("claims.reference"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    # Why it was matched or not (matching's reason codes), and the claims considered.
    match_reason: Mapped[str] = mapped_column(String(40))
    candidates: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(32))  # "camt.053.001.08", "csv"
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The payer's references (camt.053), which a return or reversal of it repeats.
    end_to_end_id: Mapped[str | None] = mapped_column(String(35), index=True)
    tx_id: Mapped[str | None] = mapped_column(String(35), index=True)

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="PaymentAllocation.id",
    )

    @property
    def candidate_references(self) -> list[str]:
        """Return the claims matching considered for this payment."""
        return [reference for reference in (self.candidates or "").split(",") if reference]

    @property
    def allocated(self) -> Decimal:
        """Return how much of the payment went to claims."""
        return sum((a.amount for a in self.allocations), Decimal("0.00"))

    @property
    def unallocated(self) -> Decimal:
        """Return what is left on the payment (nothing matched, or more than was owed)."""
        return self.amount - self.allocated


class PaymentAllocation(Base):
    """Money of one payment that went to one claim: to an instalment, a promise or the balance.

    With `instalment_id` it paid that claim's part of the instalment (InstalmentPart);
    with only `promise_id`, that claim's part of a one-off promise; with neither,
    the claim's balance.
    """

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("instalment_id IS NULL OR promise_id IS NOT NULL", name="target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    claim_reference: Mapped[str] = mapped_column(ForeignKey("claims.reference"), index=True)
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("instalments.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    payment: Mapped[Payment] = relationship(back_populates="allocations")


class PaymentReversal(Base):
    """A debit by which the bank took a booked credit back (a return or a reversal).

    Imported once per bank transaction id, like a payment. Booking it removes the
    payment's allocations and reopens what they had settled (domain/payments/reversal.py).
    """

    __tablename__ = "payment_reversals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(140), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    booked_on: Mapped[date] = mapped_column(Date)
    # "reversal" (the bank's RvslInd) or "return" (a debit naming the credit's references).
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
