"""Payment answers for the agent API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AliasChoices, BaseModel, Field, computed_field

from domain.db.schemas import Money, ORMModel
from policy.masking import mask_name


class AllocationOut(ORMModel):
    """Money of a payment that went to one claim: to an instalment, a promise or its balance."""

    claim_reference: str
    amount: Money
    promise_id: int | None
    instalment_id: int | None


class PaymentOut(ORMModel):
    """A payment as a claim shows it (CONTRACT §3): amount, booking day, bank id, allocations."""

    id: int
    amount: Money
    currency: str
    booked_on: date
    transaction_id: str
    state: str
    claim_reference: str | None
    match_reason: str
    allocations: list[AllocationOut]
    unallocated: Money


class UnmatchedPaymentOut(PaymentOut):
    """A payment waiting for an agent, with what the bank said (payer, remittance text)."""

    payer: str | None
    remittance: str
    candidates: list[str] = Field(validation_alias="candidate_references")
    imported_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def payer_masked(self) -> str | None:
        """Return the payer's name as the console lists it: "E*** M***"."""
        return None if self.payer is None else mask_name(self.payer)


class AssignIn(BaseModel):
    """An agent's assignment of a payment to a claim: `reference` (or `claim_reference`)."""

    reference: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^\s*[A-Za-z0-9_-]+\s*$",
        validation_alias=AliasChoices("reference", "claim_reference"),
    )
