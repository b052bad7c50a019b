"""Creditor, Debtor and Claim tables."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from domain.db import Base
from domain.db.columns import Money, UTCDateTime, check_in, utcnow

if TYPE_CHECKING:
    from domain.promises.models import Promise

CLAIM_STATUSES: Final = ("open", "disputed", "insolvency", "paid")
LANGUAGES: Final = ("de", "en")


class Creditor(Base):
    """A company on whose behalf claims are collected."""

    __tablename__ = "creditors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    policy: Mapped[str] = mapped_column(String(64), default="default", server_default="default")
    # The creditor's own account for payment details (policy.bankdetails checks them on
    # import); without an IBAN the agency's account from the settings is used.
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    account_holder: Mapped[str | None] = mapped_column(String(70))

    claims: Mapped[list[Claim]] = relationship(back_populates="creditor")


class Debtor(Base):
    """A person who owes.

    Name and date of birth alone do not identify a person (two people may share
    both); the import decides who is who (domain/claims/identity.py).
    """

    __tablename__ = "debtors"
    __table_args__ = (
        Index("ix_debtors_name_date_of_birth", "name", "date_of_birth"),
        CheckConstraint(check_in("language", LANGUAGES), name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date)
    postcode: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="de", server_default="de")
    # The creditor's own id of this person (`debtor.external_id` in claims files).
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)

    claims: Mapped[list[Claim]] = relationship(back_populates="debtor")

    def __repr__(self) -> str:
        # Deliberately without date of birth, phone or email.
        return f"Debtor(id={self.id!r})"


class Claim(Base):
    """One receivable: principal, interest and fees kept apart."""

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(check_in("status", CLAIM_STATUSES), name="status"),
        CheckConstraint("principal >= 0 AND interest >= 0 AND fees >= 0", name="amounts"),
    )

    reference: Mapped[str] = mapped_column(String(32), primary_key=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    contract_date: Mapped[date | None] = mapped_column(Date)
    invoice_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    fees: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    creditor: Mapped[Creditor] = relationship(back_populates="claims")
    debtor: Mapped[Debtor] = relationship(back_populates="claims")
    promises: Mapped[list[Promise]] = relationship(
        secondary="promise_claims", back_populates="claims", viewonly=True
    )

    @property
    def total(self) -> Decimal:
        """Return principal + interest + fees."""
        return self.principal + self.interest + self.fees
