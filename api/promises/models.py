"""Promise, its instalments and the promise-to-claim association."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.claims.models import Claim, _in
from api.db import Base
from api.db.columns import Money, UTCDateTime, utcnow

PROMISE_KINDS: Final = ("full", "settlement", "instalment_plan", "deferral")
PROMISE_STATUSES: Final = ("pending", "kept", "broken", "cancelled")

# A debtor with several claims may promise for all of them at once.
promise_claims = Table(
    "promise_claims",
    Base.metadata,
    Column("promise_id", ForeignKey("promises.id", ondelete="CASCADE"), primary_key=True),
    Column("claim_reference", ForeignKey("claims.reference"), primary_key=True, index=True),
)


class Promise(Base):
    """A debtor's commitment to pay, made in one conversation."""

    __tablename__ = "promises"
    __table_args__ = (
        CheckConstraint(_in("kind", PROMISE_KINDS), name="kind"),
        CheckConstraint(_in("status", PROMISE_STATUSES), name="status"),
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claims: Mapped[list[Claim]] = relationship(secondary=promise_claims)
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="promise",
        order_by="Instalment.number",
        cascade="all, delete-orphan",
    )


class Instalment(Base):
    """One scheduled payment of an instalment plan."""

    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("promise_id", "number", name="uq_instalments_promise_id_number"),
        CheckConstraint("amount > 0 AND number >= 1", name="amount_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    due_date: Mapped[date] = mapped_column(Date)

    promise: Mapped[Promise] = relationship(back_populates="instalments")
