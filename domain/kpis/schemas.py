"""The answer of `GET /api/kpis` (each number is defined in domain/kpis/service.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from domain.db.schemas import Money
from domain.kpis.series import Breakdowns, BucketSlice, Slice
from domain.kpis.service import Amounts, Kpis, rate

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


def _amounts(amounts: list[Amounts]) -> list[AmountsOut]:
    return [
        AmountsOut(currency=a.currency, promised=a.promised, received=a.received) for a in amounts
    ]


class SliceOut(BaseModel):
    """The headline numbers of one bucket or breakdown entry (domain/kpis/series.py)."""

    conversations: int
    verified: int
    settled: int
    contained: int
    promises: int
    pending: int
    kept: int
    broken: int
    handoffs: int
    amounts: list[AmountsOut]
    rates: RatesOut

    @classmethod
    def of(cls, part: Slice) -> SliceOut:
        """Build one slice of the answer."""
        return cls(
            conversations=part.conversations,
            verified=part.verified,
            settled=part.settled,
            contained=part.contained,
            promises=part.promises,
            pending=part.pending,
            kept=part.kept,
            broken=part.broken,
            handoffs=part.handoffs,
            amounts=_amounts(part.amounts),
            rates=RatesOut(
                verified=rate(part.verified, part.conversations),
                containment=rate(part.contained, part.conversations),
                kept=rate(part.kept, part.promises),
                broken=rate(part.broken, part.promises),
            ),
        )


class BucketOut(SliceOut):
    """One bucket of the series: whole days `from`..`to`, both included."""

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")

    @classmethod
    def of_bucket(cls, bucket: BucketSlice) -> BucketOut:
        """Build one bucket of the series."""
        return cls(start=bucket.start, end=bucket.end, **dict(SliceOut.of(bucket.numbers)))


class CreditorOut(SliceOut):
    """One creditor's slice, with its name."""

    name: str


class TotalsOut(BaseModel):
    """Collection KPIs over a period: the totals (CONTRACT §3)."""

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
    def of(cls, kpis: Kpis) -> TotalsOut:
        """Build the totals from computed KPIs."""
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
            amounts=_amounts(kpis.amounts),
            handoffs=HandoffsOut(total=kpis.handoffs_total, by_reason=kpis.handoffs),
            rates=RatesOut(**kpis.rates()),
        )


class KpisOut(TotalsOut):
    """Collection KPIs over a period, over time and by channel, language and creditor."""

    bucket: str
    series: list[BucketOut]
    by_channel: dict[str, SliceOut]
    by_language: dict[str, SliceOut]
    by_creditor: dict[str, CreditorOut]

    @classmethod
    def build(
        cls, kpis: Kpis, *, bucket: str, series: list[BucketSlice], breakdowns: Breakdowns
    ) -> KpisOut:
        """Build the answer from computed KPIs, their series and breakdowns."""
        return cls(
            **dict(TotalsOut.of(kpis)),
            bucket=bucket,
            series=[BucketOut.of_bucket(part) for part in series],
            by_channel={key: SliceOut.of(part) for key, part in breakdowns.by_channel.items()},
            by_language={key: SliceOut.of(part) for key, part in breakdowns.by_language.items()},
            by_creditor={
                key: CreditorOut(name=part.name, **dict(SliceOut.of(part.numbers)))
                for key, part in breakdowns.by_creditor.items()
            },
        )
