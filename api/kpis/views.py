"""`GET /api/kpis` (JSON) and `GET /api/kpis.csv` (the same numbers for a spreadsheet)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.agents.dependencies import CurrentAgent
from api.config import get_settings
from api.db import SessionDep
from api.kpis import service as kpi_service
from api.kpis.schemas import KpisOut

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


@router.get("/kpis")
def read_kpis(query: KpiQuery, db_session: SessionDep, _agent: CurrentAgent) -> KpisOut:
    """Report collection KPIs over a period (each number's definition: api/kpis/service.py).

    Conversations with a debtor message in the period, how many were verified,
    settled (a promise recorded) and contained (settled without any handoff);
    promises recorded in the period by kind and status now, with the amounts
    promised and received on them; handoffs opened in the period by reason.
    """
    period, filters = query
    return KpisOut.of(kpi_service.compute(db_session=db_session, period=period, filters=filters))


def csv_rows(answer: KpisOut) -> list[tuple[str, str]]:
    """Flatten the answer into `metric, value` rows (dotted names, as in the JSON)."""
    data: dict[str, Any] = answer.model_dump(mode="json", by_alias=True)
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):  # amounts: one block per currency
            for item in value:
                currency = item.pop("currency")
                walk(f"{prefix}.{currency}", item)
        else:
            text = "" if value is None else str(value)
            # A creditor id read by a spreadsheet must stay text, never become a formula.
            rows.append((prefix, f"'{text}" if text[:1] in ("=", "+", "-", "@") else text))

    walk("", data)
    return rows


@router.get(
    "/kpis.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "`metric,value` rows."}},
)
def export_kpis(query: KpiQuery, db_session: SessionDep, _agent: CurrentAgent) -> Response:
    """Export the KPIs of `GET /api/kpis` as CSV, one `metric,value` row each."""
    period, filters = query
    answer = KpisOut.of(kpi_service.compute(db_session=db_session, period=period, filters=filters))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("metric", "value"))
    writer.writerows(csv_rows(answer))
    name = f"quitt-kpis-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
