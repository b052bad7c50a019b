"""The console's KPI and payments panels in a real browser (Debian's Chromium, Playwright).

The gateway runs in this process (uvicorn in a thread) on a migrated SQLite file seeded
with the March 2026 of tests/api/test_kpis.py and one payment the import could not
match: no Rasa is needed. An agent logs in, opens the KPI panel, picks March by week and
sees the numbers as tiles and Chart.js charts (served by the gateway from
web/node_modules), in German and English, exports the CSV, filters by creditor and gets
a clear message for an empty period. Then the agent opens the unmatched payments, fails
with an unknown claim, assigns the payment to Jana's claim, and the KPIs show her plan
kept. Screenshots: `artifacts/console-kpis.png`, `artifacts/console-payments.png`.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from api.console.page import CHART_BUNDLE
from api.db.migrate import upgrade
from api.main import create_app
from api.payments import views as payment_views
from domain.agents import service as agents_service
from domain.config import ROOT, get_settings
from domain.db import session_scope
from domain.db.core import get_engine
from domain.payments import service as payment_service
from domain.payments.statement import Statement, StatementLine
from policy.config import default_book
from tests.api.test_kpis import JANA, seed_march
from tests.integration import test_console_browser as console_browser
from tests.support.stack import _free_port

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

# Debian's Chromium as the console browser test launches it (same skip rules in and out of CI).
pytestmark = console_browser.pytestmark
browser = console_browser.browser
page = console_browser.page
ARTIFACTS = console_browser.ARTIFACTS
EMAIL = "kpi-agent@quitt.test"
# What the bank booked on 9 April without a usable reference: the plan's second instalment.
UNMATCHED = StatementLine(
    transaction_id="BANK-2026-04-09-0001",
    amount=Decimal("287.84"),
    currency="EUR",
    booked_on=date(2026, 4, 9),
    remittance="Rate April Strom und Bestellung",
    payer="Jana Becker",
    where="row 1",
)
PASSWORD = "correct-horse-battery"


def _clear_caches() -> None:
    """Forget the cached settings and engine, so the next use reads this test's."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def kpi_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the gateway in-process on a free port over a database seeded with March 2026."""
    url = f"sqlite:///{tmp_path / 'quitt.db'}"
    upgrade(url)
    port = _free_port()
    for key, value in {
        "QUITT_DATABASE_URL": url,
        "QUITT_ENVIRONMENT": "test",
        "QUITT_SENTIMENT_BACKEND": "off",
        "QUITT_STT_BACKEND": "off",
        "QUITT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("QUITT_REDIS_URL", raising=False)
    _clear_caches()
    demo = json.loads((ROOT / "data" / "demo_claims.json").read_text(encoding="utf-8"))
    with session_scope() as db_session:
        seed_march(db_session, demo)
        report = payment_service.import_statement(
            db_session=db_session,
            statement=Statement(source="csv", credits=[UNMATCHED]),
            today=date(2026, 4, 10),
            policy_book=default_book(),
        )
        assert report.unmatched == 1
        agents_service.create_agent(
            db_session=db_session, email=EMAIL, password=PASSWORD, role="agent"
        )
    app = create_app()
    # The assignment's sweep runs on 10 April (as the seed's), not on the machine's day.
    app.dependency_overrides[payment_views.today] = lambda: date(2026, 4, 10)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="kpi-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        _clear_caches()


def show(page: Page, start: str, end: str, creditor: str = "", bucket: str = "week") -> None:
    """Pick a period, a bucket (and a creditor) in the panel and show it."""
    page.fill("#kpi-from", start)
    page.fill("#kpi-to", end)
    page.select_option("#kpi-bucket", bucket)
    page.fill("#kpi-creditor", creditor)
    page.click("#kpi-show")


def chart(page: Page, name: str) -> dict[str, Any]:
    """Read what Chart.js drew in a chart: its labels, datasets and canvas size."""
    found: dict[str, Any] = page.evaluate(
        """(name) => {
            const canvas = document.querySelector(`[data-chart="${name}"] canvas`);
            const drawn = canvas && window.Chart.getChart(canvas);
            if (!drawn) return null;
            return {
                labels: drawn.data.labels,
                datasets: drawn.data.datasets.map((d) => ({ label: d.label, data: d.data })),
                width: canvas.width,
                height: canvas.height,
                aria: canvas.getAttribute("aria-label"),
            };
        }""",
        name,
    )
    assert found is not None, f"no Chart.js chart {name!r}"
    return found


def log_in(page: Page, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/console")
    page.fill("#login-email", EMAIL)
    page.fill("#login-password", PASSWORD)
    page.click("#login-button")
    expect(page.locator("#agent-label")).to_contain_text(EMAIL)


def test_an_agent_sees_the_month_s_kpis_as_charts(
    kpi_gateway: str, page: Page, tmp_path: Path
) -> None:
    """Read March by week as tiles and charts, in both languages; export; filter; refuse."""
    from playwright.sync_api import expect

    assert CHART_BUNDLE.is_file(), "Chart.js is missing: run scripts/install-web.sh"
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        log_in(page, kpi_gateway)
        page.click("#kpi-button")
        panel = page.locator("#kpi-panel")
        expect(panel).to_be_visible()
        expect(page.locator(".queue-pane")).to_be_hidden()
        show(page, "2026-03-01", "2026-03-31")
        expect(page.locator("#kpi-status")).to_contain_text("2026-03-01 bis 2026-03-31")
        expect(page.locator("#kpi-status")).to_contain_text("nach Wochen")

        def tile(key: str) -> Locator:
            return page.locator(f'[data-kpi="{key}"] .kpi-tile-value')

        expect(tile("conversations")).to_have_text("7")
        expect(tile("verified")).to_have_text("6")
        expect(tile("promises")).to_have_text("4")
        expect(tile("containment")).to_have_text("42,9 %")
        expect(tile("kept-rate")).to_have_text("25,0 %")
        expect(tile("broken-rate")).to_have_text("25,0 %")
        expect(tile("handoffs")).to_have_text("4")
        expect(tile("promised")).to_have_text("2.360,77 €")
        expect(tile("received")).to_have_text("1.592,11 €")

        # Every chart is a Chart.js canvas with the numbers of the answer.
        names = [
            "funnel",
            "activity",
            "rates",
            "amounts",
            "handoffs",
            "by-channel",
            "by-language",
            "by-creditor",
        ]
        expect(page.locator("#kpi-charts canvas")).to_have_count(len(names))
        expect(page.locator("#kpi-charts svg")).to_have_count(0)  # no hand-drawn bars left
        drawn = {name: chart(page, name) for name in names}
        for name, found in drawn.items():
            assert found["width"] > 0 and found["height"] > 0, name
            assert any(any(v for v in d["data"]) for d in found["datasets"]), name
        assert drawn["funnel"]["labels"] == [
            "Gespräche",
            "Identität bestätigt",
            "Zusage erhalten",
            "Eingehalten",
        ]
        assert drawn["funnel"]["datasets"][0]["data"] == [7, 6, 4, 1]
        assert drawn["amounts"]["labels"][1] == "03-02–03-08"
        promised, received = drawn["amounts"]["datasets"]
        assert promised["data"] == [0, 786.5, 1574.27, 0, 0, 0]
        assert received["data"] == [0, 287.84, 1304.27, 0, 0, 0]
        assert "786,50 €" in drawn["amounts"]["aria"]
        activity = {d["label"]: d["data"] for d in drawn["activity"]["datasets"]}
        assert activity["Gespräche"] == [1, 2, 2, 1, 0, 1]
        assert activity["Übergaben"] == [1, 0, 1, 1, 0, 1]
        handoffs = drawn["handoffs"]
        reasons = dict(zip(handoffs["labels"], handoffs["datasets"][0]["data"], strict=True))
        assert reasons["Zahlungszusage gebrochen"] == 1 and reasons["Trauerfall"] == 0
        assert len(reasons) == 11  # every reason, 0 or not
        by_channel = drawn["by-channel"]
        assert by_channel["labels"] == ["REST / Website", "Web-Chat", "WhatsApp", "Telefon"]
        assert by_channel["datasets"][0]["data"] == [1, 3, 2, 1]  # conversations
        assert drawn["by-creditor"]["labels"] == [
            "FitLine Studios AG",
            "Modehaus Nord Online GmbH",
            "Stadtwerke Musterstadt GmbH",
        ]

        # The CSV: one row per week of the period.
        with page.expect_download() as download:
            page.click("#kpi-csv")
        saved = tmp_path / "kpis.csv"
        download.value.save_as(saved)
        rows = list(csv.DictReader(saved.open(encoding="utf-8")))
        assert [(r["from"], r["to"]) for r in rows][:2] == [
            ("2026-03-01", "2026-03-01"),
            ("2026-03-02", "2026-03-08"),
        ]
        assert [r["promised_EUR"] for r in rows] == [
            "0.00",
            "786.50",
            "1574.27",
            "0.00",
            "0.00",
            "0.00",
        ]

        # In English: labels, percentages and money in the English way.
        page.click('#kpi-panel .lang-switch [data-lang="en"]')
        expect(page.locator("#kpi-panel h2")).to_have_text("KPIs")
        expect(page.locator('[data-kpi="conversations"] .kpi-tile-label')).to_have_text(
            "Conversations"
        )
        expect(tile("containment")).to_have_text("42.9%")
        expect(tile("promised")).to_have_text("€2,360.77")
        expect(page.locator("#kpi-status")).to_contain_text("by weeks")
        assert "€786.50" in chart(page, "amounts")["aria"]
        assert "Broken promise" in chart(page, "handoffs")["labels"]
        page.screenshot(path=str(ARTIFACTS / "console-kpis-en.png"), full_page=True)
        page.click('#kpi-panel .lang-switch [data-lang="de"]')
        expect(page.locator("#kpi-panel h2")).to_have_text("Kennzahlen")
        page.screenshot(path=str(ARTIFACTS / "console-kpis.png"), full_page=True)

        # One creditor: its own part of the plan over two creditors.
        show(page, "2026-03-01", "2026-03-31", creditor="modehaus-nord")
        expect(tile("conversations")).to_have_text("3")
        assert chart(page, "by-creditor")["labels"] == ["Modehaus Nord Online GmbH"]
        expect(tile("promised")).to_have_text("370,00 €")
        expect(tile("received")).to_have_text("50,00 €")
        assert "270,00 €" in chart(page, "amounts")["aria"]  # Emily's settlement, 9-15 March

        # An empty period is refused with the server's words.
        show(page, "2026-03-31", "2026-03-01")
        expect(page.locator("#kpi-status")).to_contain_text(
            "from (2026-03-31) is after to (2026-03-01)"
        )

        page.click("#kpi-close")
        expect(panel).to_be_hidden()
        expect(page.locator(".queue-pane")).to_be_visible()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "console-kpis-failure.png"), full_page=True)
        raise


def test_an_agent_assigns_an_unmatched_payment(kpi_gateway: str, page: Page) -> None:
    """List the unmatched payment, refuse an unknown claim, assign it; the plan is kept."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    try:
        log_in(page, kpi_gateway)
        page.click("#payments-button")
        panel = page.locator("#payments-panel")
        expect(panel).to_be_visible()
        expect(page.locator(".queue-pane")).to_be_hidden()
        row = page.locator("#payments-table tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("287,84 €")
        expect(row).to_contain_text("09.04.2026")
        expect(row).to_contain_text("Rate April Strom und Bestellung")
        expect(row).to_contain_text("BANK-2026-04-09-0001")
        payer = row.locator(".payer-name")
        expect(payer).to_have_text("J*** B***")  # masked until asked
        row.locator("button.reveal").click()
        expect(payer).to_have_text("Jana Becker")
        row.locator("button.reveal").click()
        expect(payer).to_have_text("J*** B***")
        page.screenshot(path=str(ARTIFACTS / "console-payments.png"), full_page=True)

        reference = row.locator("input[name=reference]")
        reference.fill("999999999")
        row.locator("button[type=submit]").click()
        status = page.locator("#payments-status")
        expect(status).to_have_text("Keine Forderung mit dem Aktenzeichen 999999999.")
        expect(row).to_have_count(1)

        reference.fill(JANA)
        row.locator("button[type=submit]").click()
        expect(status).to_have_text(f"287,84 € der Forderung {JANA} zugeordnet.")
        expect(page.locator("#payments-empty")).to_be_visible()
        expect(page.locator("#payments-table")).to_have_count(0)

        # The KPIs now count Jana's plan as kept: two of four promises.
        page.click("#kpi-button")
        expect(panel).to_be_hidden()
        show(page, "2026-03-01", "2026-03-31")
        expect(page.locator('[data-kpi="kept-rate"] .kpi-tile-value')).to_have_text("50,0 %")
        received = chart(page, "amounts")["datasets"][1]["data"]
        assert received == [0, 575.68, 1304.27, 0, 0, 0]
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "console-payments-failure.png"), full_page=True)
        raise
