"""The answer of `GET /api/kpis` (each number is defined in api/kpis/service.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from api.db.schemas import Money
from api.kpis.service import Kpis

# A share leaves the API as a decimal string with four places: "0.2500"; null without a whole.
Rate = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.4f}", return_type=str)]


class PeriodOut(BaseModel):
    """Whole days, both included, in the service's time zone."""

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    timezone: str


class FiltersOut(BaseModel):
    """The filters applied (null: not filtered)."""

    creditor: str | None
    channel: str | None
    language: str | None


class PromisesOut(BaseModel):
    """Promises recorded in the period; `total` and the rest leave cancelled ones out."""

    total: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    cancelled: int


class AmountsOut(BaseModel):
    """Promised by the period's promises, and received on them so far, in one currency."""

    currency: str
    promised: Money
    received: Money


class HandoffsOut(BaseModel):
    """Handoffs opened in the period, by reason (every reason listed)."""

    total: int
    by_reason: dict[str, int]


class RatesOut(BaseModel):
    """Shares of conversations (verified, contained) and of promises (kept, broken)."""

    verified: Rate | None
    containment: Rate | None
    kept: Rate | None
    broken: Rate | None


class KpisOut(BaseModel):
    """Collection KPIs over a period."""

    period: PeriodOut
    filters: FiltersOut
    conversations: int
    verified: int
    settled: int
    contained: int
    promises: PromisesOut
    amounts: list[AmountsOut]
    handoffs: HandoffsOut
    rates: RatesOut

    @classmethod
    def of(cls, kpis: Kpis) -> KpisOut:
        """Build the answer from computed KPIs."""
        return cls(
            period=PeriodOut(
                start=kpis.period.start, end=kpis.period.end, timezone=kpis.period.timezone
            ),
            filters=FiltersOut(
                creditor=kpis.filters.creditor,
                channel=kpis.filters.channel,
                language=kpis.filters.language,
            ),
            conversations=kpis.funnel.conversations,
            verified=kpis.funnel.verified,
            settled=kpis.funnel.settled,
            contained=kpis.funnel.contained,
            promises=PromisesOut(
                total=kpis.promises.total,
                by_kind=kpis.promises.by_kind,
                by_status=kpis.promises.by_status,
                cancelled=kpis.promises.cancelled,
            ),
            amounts=[
                AmountsOut(currency=a.currency, promised=a.promised, received=a.received)
                for a in kpis.amounts
            ],
            handoffs=HandoffsOut(total=kpis.handoffs_total, by_reason=kpis.handoffs),
            rates=RatesOut(**kpis.rates()),
        )
