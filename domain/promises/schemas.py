"""Promise answers for the console API."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import Field

from domain.db.schemas import Money, ORMModel

if TYPE_CHECKING:
    from domain.promises.models import Promise


class InstalmentOut(ORMModel):
    """One instalment of a plan."""

    number: int
    amount: Money
    due_date: date
    status: str = "pending"


class PromiseOut(ORMModel):
    """A promise made for a claim.

    Under a claim (`for_claim`), amount, discount, due date and instalments are that
    claim's part of the promise (CONTRACT §3); `claim_references` names every claim the
    promise covers and `promise_amount` is what the debtor promised for all of them.
    """

    id: int
    kind: str
    amount: Money
    discount: Money
    due_date: date
    instalments: list[InstalmentOut]
    status: str
    channel: str
    created_at: datetime
    claim_references: list[str] = Field(default_factory=list)
    promise_amount: Money | None = None

    @classmethod
    def for_claim(cls, promise: Promise, claim_reference: str) -> PromiseOut:
        """Return the promise as it falls on one claim: that claim's part of it."""
        whole = cls.model_validate(promise)
        part = promise.part_for(claim_reference)
        if part is None:  # not a claim of this promise: the promise as a whole
            return whole.model_copy(update={"promise_amount": promise.amount})
        instalments = [
            InstalmentOut(
                number=instalment.number,
                amount=share.amount,
                due_date=instalment.due_date,
                status=instalment.status,
            )
            for instalment in promise.instalments
            for share in instalment.parts
            if share.claim_reference == claim_reference
        ]
        return whole.model_copy(
            update={
                "amount": part.amount,
                "discount": part.discount,
                "due_date": instalments[0].due_date if instalments else promise.due_date,
                "instalments": instalments,
                "promise_amount": promise.amount,
            }
        )
