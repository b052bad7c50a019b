"""`GET /api/kpis` over time and by channel, language and creditor; the CSV per bucket.

On SQLite and PostgreSQL, over the March 2026 of tests/api/test_kpis.py. 1 March 2026
is a Sunday, so March by ISO week is 1 | 2-8 | 9-15 | 16-22 | 23-29 | 30-31.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from domain.kpis import series as kpi_series
from domain.kpis.errors import BadPeriod
from domain.kpis.service import Period
from tests.api.test_kpis import (  # noqa: F401  (fixtures)
    FITLINE,
    MARCH,
    MODEHAUS,
    STADTWERKE,
    kpis,
    march,
)

Read = Callable[..., dict[str, Any]]
WEEKS = [
    ("2026-03-01", "2026-03-01"),
    ("2026-03-02", "2026-03-08"),
    ("2026-03-09", "2026-03-15"),
    ("2026-03-16", "2026-03-22"),
    ("2026-03-23", "2026-03-29"),
    ("2026-03-30", "2026-03-31"),
]
SLICE_KEYS = (
    "conversations",
    "verified",
    "settled",
    "contained",
    "pending",
    "kept",
    "broken",
    "handoffs",
)


def column(series: list[dict[str, Any]], key: str) -> list[Any]:
    return [bucket[key] for bucket in series]


def eur(part: dict[str, Any]) -> tuple[str, str]:
    """Return (promised, received) in EUR of a slice, zeros when it has none."""
    for amounts in part["amounts"]:
        if amounts["currency"] == "EUR":
            return amounts["promised"], amounts["received"]
    return "0.00", "0.00"


def test_march_by_week(kpis: Read) -> None:  # noqa: F811
    answer = kpis(bucket="week")
    series = answer["series"]
    assert answer["bucket"] == "week"
    assert [(b["from"], b["to"]) for b in series] == WEEKS
    # Murat at 00:30 on 1 March; Jana and Daniel; Sabine and Emily; the locked c5; Thomas.
    assert column(series, "conversations") == [1, 2, 2, 1, 0, 1]
    assert column(series, "verified") == [1, 2, 2, 0, 0, 1]
    assert column(series, "settled") == [0, 2, 2, 0, 0, 0]
    assert column(series, "contained") == [0, 2, 1, 0, 0, 0]  # Emily was handed off
    assert column(series, "promises") == [0, 2, 2, 0, 0, 0]
    assert column(series, "kept") == [0, 0, 1, 0, 0, 0]  # Sabine's full payment
    assert column(series, "broken") == [0, 1, 0, 0, 0, 0]  # Daniel's deferral
    assert column(series, "handoffs") == [1, 0, 1, 1, 0, 1]
    assert [eur(b) for b in series] == [
        ("0.00", "0.00"),
        ("786.50", "287.84"),  # the plan (575.68) and the deferral (210.82)
        ("1574.27", "1304.27"),  # the full payment and the settlement (270.00)
        ("0.00", "0.00"),
        ("0.00", "0.00"),
        ("0.00", "0.00"),
    ]
    assert series[1]["rates"] == {
        "verified": "1.0000",
        "containment": "1.0000",
        "kept": "0.0000",
        "broken": "0.5000",
    }
    assert series[4]["rates"]["kept"] is None  # no promise that week
    # The totals are there as before, and promises, money and handoffs add up to them.
    assert answer["promises"]["total"] == sum(column(series, "promises"))
    assert answer["handoffs"]["total"] == sum(column(series, "handoffs"))
    assert answer["amounts"] == [{"currency": "EUR", "promised": "2360.77", "received": "1592.11"}]


def test_each_bucket_is_the_kpis_of_its_days(kpis: Read) -> None:  # noqa: F811
    """A bucket's numbers are what `GET /api/kpis` says for its days alone, filters kept."""
    for filters in ({}, {"creditor": MODEHAUS}, {"channel": "whatsapp", "language": "de"}):
        answer = kpis(bucket="week", **filters)
        for bucket in answer["series"]:
            alone = kpis(**{"from": bucket["from"], "to": bucket["to"], **filters})
            assert [bucket[key] for key in SLICE_KEYS[:4]] == [alone[key] for key in SLICE_KEYS[:4]]
            assert bucket["promises"] == alone["promises"]["total"]
            assert [bucket["pending"], bucket["kept"], bucket["broken"]] == list(
                alone["promises"]["by_status"].values()
            )
            assert bucket["handoffs"] == alone["handoffs"]["total"]
            assert bucket["amounts"] == alone["amounts"]
            assert bucket["rates"] == alone["rates"]


def test_the_bucket_follows_the_period_unless_asked(kpis: Read) -> None:  # noqa: F811
    month = kpis()
    assert month["bucket"] == "day"
    assert len(month["series"]) == 31
    assert (month["series"][0]["from"], month["series"][0]["to"]) == ("2026-03-01", "2026-03-01")
    assert sum(column(month["series"], "conversations")) == 7
    quarter = kpis(**{"from": "2026-01-01", "to": "2026-03-31"})
    assert quarter["bucket"] == "week"
    assert quarter["series"][0]["from"] == "2026-01-01"  # a Thursday: the week is cut
    assert quarter["series"][0]["to"] == "2026-01-04"
    year = kpis(**{"from": "2025-04-01", "to": "2026-04-30"})
    assert year["bucket"] == "month"
    assert [(b["from"], b["to"]) for b in year["series"]][-2:] == [
        ("2026-03-01", "2026-03-31"),
        ("2026-04-01", "2026-04-30"),
    ]
    assert year["series"][-2]["promises"] == 4


def test_breakdowns_are_the_period_under_one_more_filter(kpis: Read) -> None:  # noqa: F811
    answer = kpis()
    assert list(answer["by_channel"]) == ["rest", "web", "whatsapp", "voice"]
    assert list(answer["by_language"]) == ["de", "en"]
    assert list(answer["by_creditor"]) == [FITLINE, MODEHAUS, STADTWERKE]
    assert answer["by_creditor"][MODEHAUS]["name"] == "Modehaus Nord Online GmbH"
    for group, name in (("by_channel", "channel"), ("by_language", "language")):
        for key, part in answer[group].items():
            alone = kpis(**{name: key})
            assert part["conversations"] == alone["conversations"]
            assert part["promises"] == alone["promises"]["total"]
            assert part["handoffs"] == alone["handoffs"]["total"]
            assert part["amounts"] == alone["amounts"]
    whatsapp = answer["by_channel"]["whatsapp"]
    assert (whatsapp["conversations"], whatsapp["promises"], whatsapp["kept"]) == (2, 2, 1)
    assert answer["by_language"]["en"]["broken"] == 1
    shop = answer["by_creditor"][MODEHAUS]
    assert (shop["conversations"], shop["settled"], shop["contained"]) == (3, 2, 1)
    assert eur(shop) == ("370.00", "50.00")  # its part of the plan over two creditors
    # A filter leaves its own value only; the other breakdowns keep it.
    narrowed = kpis(channel="whatsapp")
    assert list(narrowed["by_channel"]) == ["whatsapp"]
    assert narrowed["by_language"]["en"]["conversations"] == 1  # Daniel
    assert list(kpis(creditor=FITLINE)["by_creditor"]) == [FITLINE]


def test_the_csv_has_one_row_per_bucket(
    client: TestClient,
    auth_headers: dict[str, str],
    march: Session,  # noqa: F811
) -> None:
    params = {**MARCH, "bucket": "week"}
    response = client.get("/api/kpis.csv", params=params, headers=auth_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition == 'attachment; filename="quitt-kpis-2026-03-01-2026-03-31-by-week.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(row["from"], row["to"]) for row in rows] == WEEKS
    assert list(rows[0]) == [
        "from",
        "to",
        *SLICE_KEYS[:4],
        "promises",
        *SLICE_KEYS[4:],
        "verified_rate",
        "containment_rate",
        "kept_rate",
        "broken_rate",
        "promised_EUR",
        "received_EUR",
    ]
    assert [row["conversations"] for row in rows] == ["1", "2", "2", "1", "0", "1"]
    assert rows[1]["promised_EUR"] == "786.50"
    assert rows[2]["received_EUR"] == "1304.27"
    assert rows[0]["promised_EUR"] == "0.00"
    assert rows[1]["broken_rate"] == "0.5000"
    assert rows[4]["kept_rate"] == ""
    by_day = client.get("/api/kpis.csv", params={**MARCH, "bucket": "day"}, headers=auth_headers)
    assert len(list(csv.DictReader(io.StringIO(by_day.text)))) == 31
    assert client.get("/api/kpis.csv", params=params).status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        (
            {"from": "2024-01-01", "to": "2026-03-31", "bucket": "day"},
            400,
            "makes 821 days, at most 366: choose week or month",
        ),
        ({"bucket": "year"}, 422, "bucket"),
    ],
)
def test_a_bad_bucket_is_refused_clearly(
    client: TestClient,
    auth_headers: dict[str, str],
    params: dict[str, str],
    status: int,
    words: str,
) -> None:
    for path in ("/api/kpis", "/api/kpis.csv"):
        response = client.get(path, params=params, headers=auth_headers)
        assert response.status_code == status, response.text
        assert words in response.text


def period(start: str, end: str) -> Period:
    return Period(start=date.fromisoformat(start), end=date.fromisoformat(end), timezone="UTC")


def spans(parts: list[Period]) -> list[tuple[str, str]]:
    return [(p.start.isoformat(), p.end.isoformat()) for p in parts]


def test_buckets_are_cut_to_the_period() -> None:
    assert spans(kpi_series.buckets(period("2026-03-04", "2026-03-18"), "week")) == [
        ("2026-03-04", "2026-03-08"),
        ("2026-03-09", "2026-03-15"),
        ("2026-03-16", "2026-03-18"),
    ]
    assert spans(kpi_series.buckets(period("2025-11-15", "2026-01-10"), "month")) == [
        ("2025-11-15", "2025-11-30"),
        ("2025-12-01", "2025-12-31"),
        ("2026-01-01", "2026-01-10"),
    ]
    assert spans(kpi_series.buckets(period("2026-03-05", "2026-03-05"), "week")) == [
        ("2026-03-05", "2026-03-05")
    ]
    for unit in kpi_series.BUCKETS:
        whole = period("2024-02-27", "2025-01-02")
        assert kpi_series.bucket_count(whole, unit) == len(kpi_series.buckets(whole, unit))
    with pytest.raises(BadPeriod, match="at most 366"):
        kpi_series.buckets(period("2025-01-01", "2026-01-02"), "day")
