"""Promise answers for the console API."""

from __future__ import annotations

from datetime import date, datetime

from api.db.schemas import Money, ORMModel


class InstalmentOut(ORMModel):
    """One instalment of a plan."""

    number: int
    amount: Money
    due_date: date


class PromiseOut(ORMModel):
    """A promise made for a claim."""

    id: int
    kind: str
    amount: Money
    discount: Money
    due_date: date
    instalments: list[InstalmentOut]
    status: str
    channel: str
    created_at: datetime
