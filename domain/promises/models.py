"""Promise, its instalments and the promise-to-claim association."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final, cast

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.claims.models import Claim
from domain.db import Base
from domain.db.columns import Money, UTCDateTime, check_in, utcnow

PROMISE_KINDS: Final = ("full", "settlement", "instalment_plan", "deferral")
PROMISE_STATUSES: Final = ("pending", "kept", "broken", "cancelled")
# Set by payments (domain/payments/sweep.py): kept when paid, broken when short after grace.
INSTALMENT_STATUSES: Final = ("pending", "kept", "broken")


class PromiseClaim(Base):
    """A claim covered by a promise, with that claim's part of it (CONTRACT §3).

    A debtor with several claims may promise for all of them at once; each claim's
    part is fixed when the promise is recorded (policy.allocation), so that the
    creditor's books add up: the parts sum to the promise's amount and discount.
    """

    __tablename__ = "promise_claims"
    __table_args__ = (CheckConstraint("amount >= 0 AND discount >= 0", name="amounts"),)

    promise_id: Mapped[int] = mapped_column(
        ForeignKey("promises.id", ondelete="CASCADE"), primary_key=True
    )
    claim_reference: Mapped[str] = mapped_column(
        ForeignKey("claims.reference"), primary_key=True, index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    promise: Mapped[Promise] = relationship(back_populates="parts")
    claim: Mapped[Claim] = relationship()


# The association table itself, for queries over it.
promise_claims: Final = cast(Table, PromiseClaim.__table__)


class Promise(Base):
    """A debtor's commitment to pay, made in one conversation."""

    __tablename__ = "promises"
    __table_args__ = (
        CheckConstraint(check_in("kind", PROMISE_KINDS), name="kind"),
        CheckConstraint(check_in("status", PROMISE_STATUSES), name="status"),
        CheckConstraint("amount >= 0 AND discount >= 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    channel: Mapped[str] = mapped_column(String(32))
    # Plain strings, not foreign keys: a promise must survive independent of transcripts.
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    # Each claim's part; `claims` is the same set of claims, read only.
    parts: Mapped[list[PromiseClaim]] = relationship(
        back_populates="promise", cascade="all, delete-orphan", lazy="selectin"
    )
    claims: Mapped[list[Claim]] = relationship(
        secondary="promise_claims", back_populates="promises", viewonly=True
    )
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="promise",
        order_by="Instalment.number",
        cascade="all, delete-orphan",
    )

    @property
    def claim_references(self) -> list[str]:
        """Return the references of the claims the promise covers, oldest claim first."""
        parts = sorted(self.parts, key=lambda p: (p.claim.due_date, p.claim_reference))
        return [part.claim_reference for part in parts]

    def part_for(self, claim_reference: str) -> PromiseClaim | None:
        """Return the part of the promise that falls on one claim."""
        return next((p for p in self.parts if p.claim_reference == claim_reference), None)


class Instalment(Base):
    """One scheduled payment of an instalment plan."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("promise_id", "number", name="uq_instalments_promise_id_number"),
        CheckConstraint("amount > 0 AND number >= 1", name="amount_number"),
        CheckConstraint(check_in("status", INSTALMENT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")

    promise: Mapped[Promise] = relationship(back_populates="instalments")
    parts: Mapped[list[InstalmentPart]] = relationship(
        back_populates="instalment", cascade="all, delete-orphan", lazy="selectin"
    )


class InstalmentPart(Base):
    """One claim's part of one instalment of a promise over several claims.

    A claim whose part of an instalment rounds to nothing has no row for it.
    """

    __tablename__ = "instalment_parts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    instalment_id: Mapped[int] = mapped_column(
        ForeignKey("instalments.id", ondelete="CASCADE"), primary_key=True
    )
    claim_reference: Mapped[str] = mapped_column(
        ForeignKey("claims.reference"), primary_key=True, index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)

    instalment: Mapped[Instalment] = relationship(back_populates="parts")
