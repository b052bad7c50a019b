"""`GET /api/kpis` (JSON) and `GET /api/kpis.csv` (the same numbers for a spreadsheet).

The CSV has one `metric,value` row per number of the period; with `bucket`, one row
per bucket of the series instead (domain/kpis/csvfile.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.agents.dependencies import CurrentAgent
from api.db import SessionDep
from domain.config import get_settings
from domain.kpis import series as kpi_series
from domain.kpis import service as kpi_service
from domain.kpis.csvfile import bucket_csv, metric_csv
from domain.kpis.schemas import KpisOut, TotalsOut

router = APIRouter(prefix="/api", tags=["kpis"])

# Without `from`, a period of this many days up to `to` (today by default).
DEFAULT_DAYS = 30
# The channels conversations, promises and handoffs are recorded with.
Channel = Literal["rest", "web", "whatsapp", "voice"]
Language = Literal["de", "en"]


def today() -> date:
    """Return today's date in the service's time zone (a dependency, so tests set the clock)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def kpi_query(
    day: Annotated[date, Depends(today)],
    start: Annotated[
        date | None,
        Query(alias="from", description="First day (YYYY-MM-DD); default 29 days before `to`."),
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Last day, included; default today.")
    ] = None,
    creditor: Annotated[
        str | None, Query(max_length=64, description="A creditor id: its claims' parts only.")
    ] = None,
    channel: Annotated[Channel | None, Query()] = None,
    language: Annotated[Language | None, Query()] = None,
) -> tuple[kpi_service.Period, kpi_service.Filters]:
    """Read the period (whole days in the service's time zone) and the filters."""
    end = end or day
    if start is None:
        try:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:
            start = end  # the year 1: refused below as out of range
    period = kpi_service.make_period(start=start, end=end, timezone=get_settings().timezone)
    return period, kpi_service.Filters(creditor=creditor, channel=channel, language=language)


KpiQuery = Annotated[tuple[kpi_service.Period, kpi_service.Filters], Depends(kpi_query)]
BucketQuery = Annotated[
    kpi_series.Bucket | None,
    Query(
        description="The series' buckets: day, week (ISO, Monday first) or month; default "
        "by the period's length (days up to 62 days, weeks up to 366, then months)."
    ),
]


def answer(
    query: tuple[kpi_service.Period, kpi_service.Filters],
    bucket: kpi_series.Bucket | None,
    db_session: SessionDep,
) -> KpisOut:
    """Compute the totals, the series and the breakdowns of one request."""
    period, filters = query
    kpis = kpi_service.compute(db_session=db_session, period=period, filters=filters)
    bucket = bucket or kpi_series.default_bucket(period)
    return KpisOut.build(
        kpis,
        bucket=bucket,
        series=kpi_series.series(
            db_session=db_session, period=period, filters=filters, bucket=bucket
        ),
        breakdowns=kpi_series.breakdowns(
            db_session=db_session,
            period=period,
            filters=filters,
            channels=get_args(Channel),
            languages=get_args(Language),
        ),
    )


@router.get("/kpis")
def read_kpis(
    query: KpiQuery, db_session: SessionDep, _agent: CurrentAgent, bucket: BucketQuery = None
) -> KpisOut:
    """Report collection KPIs over a period (each number's definition: domain/kpis/service.py).

    Conversations with a debtor message in the period, how many were verified,
    settled (a promise recorded) and contained (settled without any handoff);
    promises recorded in the period by kind and status now, with the amounts
    promised and received on them; handoffs opened in the period by reason.
    `series` has the same numbers per day, week or month (`bucket`), and
    `by_channel`, `by_language` and `by_creditor` per channel, language and
    creditor (domain/kpis/series.py).
    """
    return answer(query, bucket, db_session)


@router.get(
    "/kpis.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "`metric,value` rows; with `bucket`, one row per bucket.",
        }
    },
)
def export_kpis(
    query: KpiQuery, db_session: SessionDep, _agent: CurrentAgent, bucket: BucketQuery = None
) -> Response:
    """Export the KPIs of `GET /api/kpis` as CSV.

    Without `bucket`, one `metric,value` row per number of the period; with it, one
    row per bucket of the series (`from`, `to`, the counts, then `promised_<currency>`
    and `received_<currency>` for every currency).
    """
    period, filters = query
    if bucket is None:
        kpis = kpi_service.compute(db_session=db_session, period=period, filters=filters)
        text = metric_csv(TotalsOut.of(kpis))
    else:
        text = bucket_csv(answer(query, bucket, db_session))
    name = f"quitt-kpis-{period.start.isoformat()}-{period.end.isoformat()}"
    name += f"-by-{bucket}.csv" if bucket else ".csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
